// Parses the HOST:PORT of --listen / --listen-plain ("127.0.0.1:0", "[::1]:8443",
// "localhost:0") into a TCP endpoint. Port 0 asks the kernel for a free port.
#pragma once

#include <expected>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

namespace xts::net {

std::expected<boost::asio::ip::tcp::endpoint, std::string> parse_listen_address(
    std::string_view text);

}  // namespace xts::net
