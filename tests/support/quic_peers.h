// The foreign HTTP/3 peers from Debian's ngtcp2 packages: gtlsserver (ngtcp2 0.12's example
// server, GnuTLS) serving a directory on 127.0.0.1 at a free UDP port, and certificates made
// with the openssl command for it. The server is stopped when GtlsServerProcess goes away.
// Throws std::runtime_error when something does not come up (tests only).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace xfer::test {

struct TestCertificate {
  std::filesystem::path cert;  // PEM, self-signed: also the CA file that trusts it
  std::filesystem::path key;
};

// A self-signed P-256 certificate for `dns_name` (and 127.0.0.1 when `with_loopback_ip`).
TestCertificate make_certificate(const std::filesystem::path& dir, const std::string& dns_name,
                                 bool with_loopback_ip);

class GtlsServerProcess {
 public:
  static std::unique_ptr<GtlsServerProcess> start(const std::filesystem::path& htdocs,
                                                  const TestCertificate& certificate);
  ~GtlsServerProcess();
  GtlsServerProcess(const GtlsServerProcess&) = delete;
  GtlsServerProcess& operator=(const GtlsServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  // "https://127.0.0.1:<port>"
  std::string origin() const;

 private:
  GtlsServerProcess() = default;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

// A UDP port nothing listens on right now (bound and released).
std::uint16_t free_udp_port();

}  // namespace xfer::test
