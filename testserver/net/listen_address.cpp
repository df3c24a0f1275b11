#include "testserver/net/listen_address.h"

#include <charconv>

#include <fmt/format.h>

namespace xts::net {

std::expected<boost::asio::ip::tcp::endpoint, std::string> parse_listen_address(
    std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::unexpected(fmt::format("'{}': expected HOST:PORT", text));
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return std::unexpected(fmt::format("'{}': bad port", text));
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(std::string(host), error);
  if (error) return std::unexpected(fmt::format("'{}': bad address ({})", text, error.message()));
  return boost::asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port));
}

}  // namespace xts::net
