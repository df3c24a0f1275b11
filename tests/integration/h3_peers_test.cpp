// HTTP/3 against a server no one here wrote: Debian's gtlsserver (ngtcp2 0.12's example server,
// GnuTLS). `xfer get --http3-only` downloads byte-identical files over one QUIC connection; the
// server's certificate is verified as over TCP (an unknown issuer or a wrong name is refused
// without --insecure, and nothing is left at the destination); nothing listening on the UDP
// port is a quick network error.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>

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
