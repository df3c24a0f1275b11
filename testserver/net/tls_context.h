// The server's TLS context: TLS 1.2+, certificate and key from PEM files, and ALPN that picks
// "h2" over "http/1.1" (a client offering neither gets HTTP/1.1).
#pragma once

#include <expected>
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace xts::net {

std::expected<std::shared_ptr<boost::asio::ssl::context>, std::string> make_tls_context(
    const std::string& cert_file, const std::string& key_file);

}  // namespace xts::net
