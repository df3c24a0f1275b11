#include "testserver/net/tls_context.h"

#include <cstring>

#include <fmt/format.h>
#include <openssl/ssl.h>

namespace xts::net {

namespace {

// Preference order is the server's: h2 first.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  static constexpr std::string_view kPreferred[] = {"h2", "http/1.1"};
  for (const auto want : kPreferred) {
    for (unsigned int i = 0; i < inlen;) {
      const unsigned len = in[i];
      if (i + 1 + len > inlen) break;
      if (len == want.size() && std::memcmp(in + i + 1, want.data(), len) == 0) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(len);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + len;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

std::expected<std::shared_ptr<boost::asio::ssl::context>, std::string> make_tls_context(
    const std::string& cert_file, const std::string& key_file) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) return std::unexpected(fmt::format("certificate {}: {}", cert_file, ec.message()));
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return std::unexpected(fmt::format("key {}: {}", key_file, ec.message()));
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_check_private_key(native) != 1) {
    return std::unexpected(fmt::format("key {} does not match {}", key_file, cert_file));
  }
  SSL_CTX_set_alpn_select_cb(native, &select_alpn, nullptr);
  return ctx;
}

}  // namespace xts::net
