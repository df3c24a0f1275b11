#include "testserver/exchange.h"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

namespace xts {

const std::string* Request::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

void Exchange::await_room(std::size_t max, RoomHandler ready) {
  const boost::system::error_code ec = closed() ? boost::asio::error::operation_aborted : boost::system::error_code();
  boost::asio::post(executor(), [max, ready = std::move(ready), ec] { ready(ec ? 0 : max, ec); });
}

}  // namespace xts
