// QuicServerTls: the GnuTLS side of the HTTP/3 listener. One QuicServerCredentials per process
// holds the certificate and key (the same PEM files the TCP TLS listener serves); each QUIC
// connection gets its own GnuTLS server session from it, wired to ngtcp2 by
// ngtcp2_crypto_gnutls and accepting only ALPN "h3". 0-RTT is not offered (no anti-replay
// store), so early data is simply not decryptable and clients fall back to 1-RTT.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2_crypto.h>

namespace xts::net {

class QuicServerCredentials {
 public:
  static std::expected<std::shared_ptr<QuicServerCredentials>, std::string> load(const std::string& cert_file,
                                                                               const std::string& key_file);
  ~QuicServerCredentials();
  QuicServerCredentials(const QuicServerCredentials&) = delete;
  QuicServerCredentials& operator=(const QuicServerCredentials&) = delete;

  gnutls_certificate_credentials_t native() const { return cred_; }

 private:
  QuicServerCredentials() = default;
  gnutls_certificate_credentials_t cred_ = nullptr;
};

// One connection's TLS session. `conn_ref` must outlive the session: ngtcp2_crypto_gnutls
// finds the ngtcp2_conn through it.
class QuicServerSession {
 public:
  static std::expected<std::unique_ptr<QuicServerSession>, std::string> create(
      const std::shared_ptr<const QuicServerCredentials>& credentials, ngtcp2_crypto_conn_ref* conn_ref);
  ~QuicServerSession();
  QuicServerSession(const QuicServerSession&) = delete;
  QuicServerSession& operator=(const QuicServerSession&) = delete;

  gnutls_session_t native() const { return session_; }

 private:
  QuicServerSession() = default;
  std::shared_ptr<const QuicServerCredentials> credentials_;  // the session points into it
  gnutls_session_t session_ = nullptr;
};

}  // namespace xts::net
