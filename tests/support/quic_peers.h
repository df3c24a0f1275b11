// The foreign HTTP/3 peers from Debian's ngtcp2 packages: gtlsserver (ngtcp2 0.12's example
// server, GnuTLS) serving a directory on 127.0.0.1 at a free UDP port, and certificates made
// with the openssl command for it. The server is stopped when GtlsServerProcess goes away.
// Throws std::runtime_error when something does not come up (tests only).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

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

// Debian's gtlsclient (ngtcp2 0.12's example client, GnuTLS) run once against ADDR PORT with
// some URIs, in one QUIC connection, bounded by `timeout`. It does not verify the server's
// certificate. Without `quiet` its QUIC frame log (packets, RESET_STREAM, CONNECTION_CLOSE,
// Retry) is in `output`; payload dumps are always off.
struct GtlsClientOptions {
  std::filesystem::path download_dir;  // --download: each response body saved under its last path segment
  std::filesystem::path data_file;     // -d: sent as the request body
  std::string method;                  // -m (GET when empty)
  bool quiet = false;                  // -q
  std::vector<std::string> extra_args;
  std::chrono::milliseconds timeout{30'000};
};

struct GtlsClientResult {
  int exit_code = -1;  // -1: killed by the timeout
  std::string output;  // stdout then stderr
};

GtlsClientResult run_gtlsclient(const std::string& address, std::uint16_t port, const std::vector<std::string>& uris,
                                const GtlsClientOptions& options = {});

// A UDP port nothing listens on right now (bound and released).
std::uint16_t free_udp_port();

}  // namespace xfer::test
