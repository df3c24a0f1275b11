// TLS for QUIC client connections, by GnuTLS (OpenSSL 3 in Debian 12 has no QUIC API; BoringSSL
// is not packaged usably). Trust follows the same rules as the TCP transports: the system's
// trust store, or TransportSettings::ca_file instead of it; nothing is verified only with
// `insecure`. GnuTLS verifies nothing unless asked, so every session is given the host name to
// check the certificate chain and name against (gnutls_session_set_verify_cert).
#pragma once

#include <memory>
#include <string>

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <xfer/error.h>
#include <xfer/transport_settings.h>

namespace xfer::protocols::h3 {

// Credentials shared by every connection of a transport.
class QuicTlsContext {
 public:
  static Result<std::shared_ptr<QuicTlsContext>> create(const TransportSettings& settings);
  ~QuicTlsContext();
  QuicTlsContext(const QuicTlsContext&) = delete;
  QuicTlsContext& operator=(const QuicTlsContext&) = delete;

  bool verifies() const { return verify_; }
  gnutls_certificate_credentials_t credentials() const { return credentials_; }

 private:
  QuicTlsContext() = default;
  gnutls_certificate_credentials_t credentials_ = nullptr;
  bool verify_ = true;
};

// One connection's session: TLS 1.3 only, ALPN h3, SNI for names (not for IP literals), the
// certificate checked against `host` unless the context is insecure. `conn_ref` is what the
// ngtcp2 crypto callbacks reach the connection through; it and `host` must outlive the session.
class QuicTlsSession {
 public:
  static Result<std::unique_ptr<QuicTlsSession>> create(const QuicTlsContext& context,
                                                        const std::string& host,
                                                        ngtcp2_crypto_conn_ref* conn_ref);
  ~QuicTlsSession();
  QuicTlsSession(const QuicTlsSession&) = delete;
  QuicTlsSession& operator=(const QuicTlsSession&) = delete;

  gnutls_session_t native() const { return session_; }
  // Why the handshake failed on the TLS side, for the error message: the certificate
  // verification's verdict when there is one, else empty.
  std::string verification_failure() const;
  // The negotiated ALPN protocol ("h3"), empty before the handshake.
  std::string alpn() const;

 private:
  QuicTlsSession() = default;
  gnutls_session_t session_ = nullptr;
  std::string host_;  // GnuTLS keeps a pointer to it for the verification
};

}  // namespace xfer::protocols::h3
