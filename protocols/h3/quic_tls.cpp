#include "protocols/h3/quic_tls.h"

#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <fmt/format.h>

#include <boost/asio/ip/address.hpp>

namespace xfer::protocols::h3 {
namespace {

// TLS 1.3 only (QUIC has no other), AEADs QUIC defines, and no middlebox compatibility mode
// (QUIC forbids its fake ChangeCipherSpec).
constexpr const char* kPriority =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
    "+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:"
    "%DISABLE_TLS13_COMPAT_MODE";

Error tls_error(const std::string& what, int rv) {
  return Error(ErrorCategory::Tls, fmt::format("{}: {}", what, gnutls_strerror(rv)));
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

Result<std::shared_ptr<QuicTlsContext>> QuicTlsContext::create(const TransportSettings& settings) {
  std::shared_ptr<QuicTlsContext> self(new QuicTlsContext());
  self->verify_ = !settings.insecure;
  if (const int rv = gnutls_certificate_allocate_credentials(&self->credentials_); rv != 0)
    return std::unexpected(tls_error("cannot allocate TLS credentials", rv));
  if (!settings.ca_file.empty()) {
    const int n = gnutls_certificate_set_x509_trust_file(self->credentials_, settings.ca_file.c_str(),
                                                         GNUTLS_X509_FMT_PEM);
    if (n < 0) return std::unexpected(tls_error("cannot read CA file " + settings.ca_file, n));
    if (n == 0)
      return fail(ErrorCategory::Tls, fmt::format("CA file {} holds no certificate", settings.ca_file));
  } else if (const int n = gnutls_certificate_set_x509_system_trust(self->credentials_); n < 0) {
    return std::unexpected(tls_error("cannot load the system's trusted certificates", n));
  }
  return self;
}

QuicTlsContext::~QuicTlsContext() {
  if (credentials_) gnutls_certificate_free_credentials(credentials_);
}

Result<std::unique_ptr<QuicTlsSession>> QuicTlsSession::create(const QuicTlsContext& context,
                                                               const std::string& host,
                                                               ngtcp2_crypto_conn_ref* conn_ref) {
  std::unique_ptr<QuicTlsSession> self(new QuicTlsSession());
  self->host_ = host;
  if (const int rv = gnutls_init(&self->session_, GNUTLS_CLIENT | GNUTLS_ENABLE_EARLY_DATA |
                                                      GNUTLS_NO_END_OF_EARLY_DATA);
      rv != 0)
    return std::unexpected(tls_error("cannot start a TLS session", rv));
  if (const int rv = gnutls_priority_set_direct(self->session_, kPriority, nullptr); rv != 0)
    return std::unexpected(tls_error("cannot set TLS priorities", rv));
  if (ngtcp2_crypto_gnutls_configure_client_session(self->session_) != 0)
    return fail(ErrorCategory::Tls, "cannot prepare the TLS session for QUIC");
  gnutls_session_set_ptr(self->session_, conn_ref);
  if (const int rv = gnutls_credentials_set(self->session_, GNUTLS_CRD_CERTIFICATE, context.credentials());
      rv != 0)
    return std::unexpected(tls_error("cannot set TLS credentials", rv));
  gnutls_datum_t alpn{reinterpret_cast<unsigned char*>(const_cast<char*>("h3")), 2};
  if (const int rv = gnutls_alpn_set_protocols(self->session_, &alpn, 1, GNUTLS_ALPN_MANDATORY); rv != 0)
    return std::unexpected(tls_error("cannot offer ALPN h3", rv));
  if (!is_ip_literal(self->host_)) {
    if (const int rv = gnutls_server_name_set(self->session_, GNUTLS_NAME_DNS, self->host_.data(),
                                              self->host_.size());
        rv != 0)
      return std::unexpected(tls_error("cannot set the TLS server name", rv));
  }
  // Chain and name checked inside the handshake; a failure fails it (and the connection).
  if (context.verifies()) gnutls_session_set_verify_cert(self->session_, self->host_.c_str(), 0);
  return self;
}

QuicTlsSession::~QuicTlsSession() {
  if (session_) gnutls_deinit(session_);
}

std::string QuicTlsSession::verification_failure() const {
  const unsigned status = gnutls_session_get_verify_cert_status(session_);
  if (status == 0) return {};
  gnutls_datum_t out{};
  if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) != 0)
    return "the server's certificate was not accepted";
  std::string text(reinterpret_cast<const char*>(out.data), out.size);
  gnutls_free(out.data);
  return text;
}

std::string QuicTlsSession::alpn() const {
  gnutls_datum_t selected{};
  if (gnutls_alpn_get_selected_protocol(session_, &selected) != 0) return {};
  return std::string(reinterpret_cast<const char*>(selected.data), selected.size);
}

}  // namespace xfer::protocols::h3
