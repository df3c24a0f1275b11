// HTTP/3 against a server no one here wrote: Debian's gtlsserver (ngtcp2 0.12's example server,
// GnuTLS). `xfer get --http3-only` downloads byte-identical files over one QUIC connection; the
// server's certificate is verified as over TCP (an unknown issuer or a wrong name is refused
// without --insecure, and nothing is left at the destination); nothing listening on the UDP
// port is a quick network error. `--http3` prefers HTTP/3 and falls back to TCP when the UDP port
// is closed or silent.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "tests/integration/engine_harness.h"
#include "tests/support/files.h"
#include "tests/support/quic_peers.h"

using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

struct QuicFixture {
  TempDir dir{"xfer-h3"};
  TestCertificate certificate = make_certificate(dir / "tls", "localhost", true);
  std::unique_ptr<GtlsServerProcess> server;

  QuicFixture() {
    fs::create_directories(dir / "www");
    write_pattern_file(dir / "www" / "a.bin", 7'000'003, 41);
    write_pattern_file(dir / "www" / "b.bin", 1'000'000, 42);
    // (gtlsserver answers 404 for an empty file: the smallest one here has a byte.)
    write_pattern_file(dir / "www" / "one.bin", 1, 43);
    server = GtlsServerProcess::start(dir / "www", certificate);
  }
  std::string journal() const { return (dir / "j").string(); }
};

}  // namespace

TEST_CASE("xfer get --http3-only downloads from gtlsserver byte-identical", "[cli][h3]") {
  QuicFixture f;
  const auto out = f.dir / "out";
  const auto r = run_cli({"get", "--http3-only", f.server->origin() + "/a.bin", f.server->origin() + "/b.bin",
                          f.server->origin() + "/one.bin", "-d", out.string(), "--journal", f.journal(),
                          "--cacert", f.certificate.cert.string()});
  INFO(r.stderr_text);
  REQUIRE(r.exit_code == 0);
  for (const char* name : {"a.bin", "b.bin", "one.bin"}) {
    CAPTURE(name);
    CHECK(sha256_file(out / name) == sha256_file(f.dir / "www" / name));
  }
  // By name too (the certificate's DNS name), and under a rate limit that pauses the stream
  // (flow control: the window closes while the limiter waits).
  const auto limited = run_cli({"get", "--http3-only", "https://localhost:" + std::to_string(f.server->port()) + "/a.bin",
                                "-o", (out / "limited.bin").string(), "--journal", f.journal(), "--cacert",
                                f.certificate.cert.string(), "--limit-rate", "8M"});
  INFO(limited.stderr_text);
  REQUIRE(limited.exit_code == 0);
  CHECK(sha256_file(out / "limited.bin") == sha256_file(f.dir / "www" / "a.bin"));
}

TEST_CASE("an HTTP/3 server certificate is verified: unknown issuer and wrong name are refused",
          "[cli][h3][tls]") {
  QuicFixture f;
  const auto out = f.dir / "out" / "a.bin";
  // Not trusted: the system store does not know this self-signed certificate.
  auto r = run_cli({"get", "--http3-only", f.server->origin() + "/a.bin", "-o", out.string(), "--journal",
                    f.journal(), "--retry", "0"});
  CHECK(r.exit_code == 4);
  CHECK(r.stderr_text.find("not trusted") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(out.string() + ".part"));
  // Trusted issuer, wrong name: a server whose certificate names another host.
  const auto other = make_certificate(f.dir / "tls-other", "other.example", false);
  auto wrong = GtlsServerProcess::start(f.dir / "www", other);
  r = run_cli({"get", "--http3-only", wrong->origin() + "/a.bin", "-o", out.string(), "--journal",
               f.journal(), "--cacert", other.cert.string(), "--retry", "0"});
  CHECK(r.exit_code == 4);
  CHECK(r.stderr_text.find("does not match") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  // --insecure: the user's say-so.
  r = run_cli({"get", "--http3-only", wrong->origin() + "/a.bin", "-o", out.string(), "--journal",
               f.journal(), "--insecure", "--retry", "0"});
  INFO(r.stderr_text);
  CHECK(r.exit_code == 0);
  CHECK(sha256_file(out) == sha256_file(f.dir / "www" / "a.bin"));
}

TEST_CASE("a --cacert that holds no certificate is refused before anything moves", "[cli][h3][tls]") {
  // The system's store is loaded only when a first HTTP/3 connection needs it; a CA file the
  // user names is still read at the start, whatever the URL's scheme.
  TempDir dir{"xfer-h3-cacert"};
  const auto empty = dir / "empty.pem";
  std::ofstream{empty};
  const auto port = std::to_string(free_udp_port());
  for (const std::string& url : {"http://127.0.0.1:" + port + "/x", "https://127.0.0.1:" + port + "/x"}) {
    CAPTURE(url);
    const auto r = run_cli({"get", "--http3", url, "-o", (dir / "x").string(), "--journal",
                            (dir / "j").string(), "--cacert", empty.string(), "--retry", "0"});
    CHECK(r.exit_code == 4);
    CHECK(r.stderr_text.find("holds no certificate") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "x"));
    CHECK_FALSE(fs::exists(dir / "x.part"));
  }
}

TEST_CASE("HTTP/3 to a UDP port nothing listens on fails fast with a network error", "[cli][h3]") {
  TempDir dir{"xfer-h3-none"};
  const auto port = free_udp_port();
  const auto started = std::chrono::steady_clock::now();
  const auto r = run_cli({"get", "--http3-only", "https://127.0.0.1:" + std::to_string(port) + "/x", "-o",
                          (dir / "x").string(), "--journal", (dir / "j").string(), "--retry", "0"});
  CHECK(r.exit_code == 3);
  CHECK(r.stderr_text.find("UDP") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  // http:// has no HTTP/3: refused before anything is sent.
  const auto plain = run_cli({"get", "--http3-only", "http://127.0.0.1:" + std::to_string(port) + "/x", "-o",
                              (dir / "x").string(), "--journal", (dir / "j").string(), "--retry", "0"});
  CHECK(plain.exit_code == 2);
  CHECK(plain.stderr_text.find("https") != std::string::npos);
}

namespace {
// A UDP socket on 127.0.0.1:`port` that reads nothing and answers nothing: QUIC's packets
// vanish, as behind a firewall that drops UDP.
class UdpBlackhole {
 public:
  explicit UdpBlackhole(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      throw std::runtime_error("cannot bind the UDP blackhole");
  }
  ~UdpBlackhole() { ::close(fd_); }

 private:
  int fd_;
};
}  // namespace

TEST_CASE("xfer get --http3 uses HTTP/3 where it works and falls back to TCP where it does not",
          "[cli][h3]") {
  QuicFixture f;
  const auto out = f.dir / "out";
  // gtlsserver speaks only QUIC: success means HTTP/3.
  auto r = run_cli({"get", "--http3", f.server->origin() + "/a.bin", "-o", (out / "quic.bin").string(),
                    "--journal", f.journal(), "--cacert", f.certificate.cert.string()});
  INFO(r.stderr_text);
  REQUIRE(r.exit_code == 0);
  CHECK(sha256_file(out / "quic.bin") == sha256_file(f.dir / "www" / "a.bin"));

  // The test server without its HTTP/3 listener speaks only TCP: its UDP port is closed
  // (refused at once), or silent.
  TempDir tcp_dir{"xfer-h3-tcp"};
  fs::create_directories(tcp_dir / "root");
  fs::copy_file(f.dir / "www" / "a.bin", tcp_dir / "root" / "a.bin");
  auto tcp_server = start_server(tcp_dir, {"--no-http3"});
  const std::string url = tcp_server->https_origin() + "/files/a.bin";
  for (const bool silent : {false, true}) {
    CAPTURE(silent);
    std::unique_ptr<UdpBlackhole> blackhole;
    if (silent) blackhole = std::make_unique<UdpBlackhole>(static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1))));
    const auto started = std::chrono::steady_clock::now();
    const auto target = out / (silent ? "silent.bin" : "refused.bin");
    r = run_cli({"get", "--http3", url, "-o", target.string(), "--journal", (f.dir / (silent ? "j2" : "j3")).string(),
                 "--cacert", tcp_server->cert().string()});
    INFO(r.stderr_text);
    REQUIRE(r.exit_code == 0);
    CHECK(sha256_file(target) == sha256_file(f.dir / "www" / "a.bin"));
    // About a second for a silent port (not the 10 s QUIC handshake timeout).
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(silent ? 6 : 4));
  }
}
