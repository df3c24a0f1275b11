#include "testserver/net/streams.h"

#include <sys/ioctl.h>
#include <linux/sockios.h>

#include <fmt/format.h>

namespace xts::net {

std::string peer_string(const boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  if (ep.address().is_v6()) return fmt::format("[{}]:{}", ep.address().to_string(), ep.port());
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

int unsent_bytes(boost::asio::ip::tcp::socket& socket) {
  if (!socket.is_open()) return 0;
  int pending = 0;
  if (::ioctl(socket.native_handle(), SIOCOUTQ, &pending) != 0) return 0;
  return pending;
}

void reset_socket(boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  if (!socket.is_open()) return;
  socket.set_option(boost::asio::socket_base::linger(true, 0), ec);
  socket.close(ec);
}

}  // namespace xts::net
