#include "testserver/net/quic_server_tls.h"

#include <cstring>

#include <fmt/format.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

namespace xts::net {

namespace {

// TLS 1.3 only (QUIC requires it), the AEADs QUIC defines, no middlebox compatibility mode.
constexpr const char* kPriority =
    "%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:"
    "+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"
    "+GROUP-SECP384R1:+GROUP-SECP521R1";

// GnuTLS's ALPN_MANDATORY does not refuse a ClientHello that offers no ALPN at all on the
// server side; this hook does, and refuses anything but h3.
int check_alpn(gnutls_session_t session, unsigned, unsigned, unsigned, const gnutls_datum_t*) {
  gnutls_datum_t alpn{};
  if (gnutls_alpn_get_selected_protocol(session, &alpn) != 0) return -1;
  if (alpn.size != 2 || std::memcmp(alpn.data, "h3", 2) != 0) return -1;
  return 0;
}

}  // namespace

std::expected<std::shared_ptr<QuicServerCredentials>, std::string> QuicServerCredentials::load(
    const std::string& cert_file, const std::string& key_file) {
  std::shared_ptr<QuicServerCredentials> c(new QuicServerCredentials());
  if (int rv = gnutls_certificate_allocate_credentials(&c->cred_); rv != 0) {
    c->cred_ = nullptr;
    return std::unexpected(fmt::format("gnutls credentials: {}", gnutls_strerror(rv)));
  }
  // Certificate first, then key (the reverse of gtlsserver's command line).
  if (int rv = gnutls_certificate_set_x509_key_file(c->cred_, cert_file.c_str(), key_file.c_str(),
                                                    GNUTLS_X509_FMT_PEM);
      rv != 0) {
    return std::unexpected(fmt::format("HTTP/3 certificate {} / key {}: {}", cert_file, key_file, gnutls_strerror(rv)));
  }
  return c;
}

QuicServerCredentials::~QuicServerCredentials() {
  if (cred_ != nullptr) gnutls_certificate_free_credentials(cred_);
}

std::expected<std::unique_ptr<QuicServerSession>, std::string> QuicServerSession::create(
    const std::shared_ptr<const QuicServerCredentials>& credentials, ngtcp2_crypto_conn_ref* conn_ref) {
  std::unique_ptr<QuicServerSession> s(new QuicServerSession());
  s->credentials_ = credentials;
  if (int rv = gnutls_init(&s->session_, GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET | GNUTLS_NO_END_OF_EARLY_DATA);
      rv != 0) {
    s->session_ = nullptr;
    return std::unexpected(fmt::format("gnutls_init: {}", gnutls_strerror(rv)));
  }
  if (int rv = gnutls_priority_set_direct(s->session_, kPriority, nullptr); rv != 0)
    return std::unexpected(fmt::format("gnutls priority: {}", gnutls_strerror(rv)));
  gnutls_handshake_set_hook_function(s->session_, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_POST, &check_alpn);
  if (ngtcp2_crypto_gnutls_configure_server_session(s->session_) != 0)
    return std::unexpected("ngtcp2_crypto_gnutls_configure_server_session failed");
  gnutls_session_set_ptr(s->session_, conn_ref);
  if (int rv = gnutls_credentials_set(s->session_, GNUTLS_CRD_CERTIFICATE, credentials->native()); rv != 0)
    return std::unexpected(fmt::format("gnutls credentials: {}", gnutls_strerror(rv)));
  gnutls_datum_t h3{reinterpret_cast<unsigned char*>(const_cast<char*>("h3")), 2};
  if (int rv = gnutls_alpn_set_protocols(s->session_, &h3, 1, GNUTLS_ALPN_MANDATORY | GNUTLS_ALPN_SERVER_PRECEDENCE);
      rv != 0)
    return std::unexpected(fmt::format("gnutls alpn: {}", gnutls_strerror(rv)));
  return s;
}

QuicServerSession::~QuicServerSession() {
  if (session_ != nullptr) gnutls_deinit(session_);
}

}  // namespace xts::net
