// The HTTP/3 listener of xfer-testserver against a real peer: Debian's gtlsclient (ngtcp2 0.12's
// example client). Downloads and uploads are checked by SHA-256; Retry, flow control on request
// bodies and the fault mapping are read from gtlsclient's frame log; Alt-Svc from curl over
// HTTP/1.1 and HTTP/2. All on 127.0.0.1 at ephemeral ports, every child bounded in time.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/files.h"
#include "tests/support/quic_peers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/testserver_process.h"
#include "tests/testserver/ts_helpers.h"

using namespace std::chrono_literals;
using xfer::test::GtlsClientOptions;
using xfer::test::run_gtlsclient;
using xfer::test::sha256_file;
using xfer::test::TempDir;
using xfer::test::TestServerOptions;
using xfer::test::TestServerProcess;

namespace {

constexpr std::uint64_t kBigSize = 5 * 1024 * 1024 + 4321;  // several windows and GSO batches

struct H3Fixture {
  TempDir dir{"xts-h3"};
  std::unique_ptr<TestServerProcess> server;

  explicit H3Fixture(std::vector<std::string> extra_args = {}, bool plain = true) {
    std::filesystem::create_directories(dir / "root");
    xfer::test::write_pattern_file(dir / "root" / "big.bin", kBigSize, 11);
    xfer::test::write_pattern_file(dir / "root" / "a.bin", 1'000'003, 12);
    xfer::test::write_pattern_file(dir / "root" / "b.bin", 2'345'678, 13);
    TestServerOptions options;
    options.root = dir / "root";
    options.data = dir / "data";
    options.plain = plain;
    options.extra_args = std::move(extra_args);
    options.log_file = dir / "server.log";
    server = TestServerProcess::start(options);
  }

  std::string uri(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(server->h3_port()) + path;
  }
  xfer::test::GtlsClientResult get(const std::vector<std::string>& paths, GtlsClientOptions options = {}) const {
    std::vector<std::string> uris;
    for (const auto& p : paths) uris.push_back(uri(p));
    if (options.download_dir.empty()) options.download_dir = dir / "dl";
    return run_gtlsclient("127.0.0.1", server->h3_port(), uris, options);
  }
  std::string server_log() const { return xts_test::read_all((dir / "server.log").string()); }
};

GtlsClientOptions quiet() {
  GtlsClientOptions o;
  o.quiet = true;
  return o;
}

GtlsClientOptions post(const std::filesystem::path& body) {
  GtlsClientOptions o;
  o.data_file = body;
  o.method = "POST";
  return o;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("h3: the ready line has h3_port, the TLS port number, and --no-http3 makes it null", "[testserver][h3]") {
  {
    H3Fixture f;
    CHECK(f.server->h3_port() != 0);
    CHECK(f.server->h3_port() == f.server->tls_port());
    CHECK(f.server->ready_line().find("\"h3_port\":" + std::to_string(f.server->tls_port())) != std::string::npos);
  }
  {
    H3Fixture f({"--no-http3"});
    CHECK(f.server->h3_port() == 0);
    CHECK(f.server->ready_line().find("\"h3_port\":null") != std::string::npos);
  }
  {
    // No TLS listener, no HTTP/3.
    TempDir dir{"xts-h3-plain"};
    TestServerOptions options;
    options.root = dir / "root";
    options.data = dir / "data";
    options.tls = false;
    options.log_file = dir / "server.log";
    auto server = TestServerProcess::start(options);
    CHECK(server->h3_port() == 0);
    CHECK(server->ready_line().find("\"h3_port\":null") != std::string::npos);
  }
}

TEST_CASE("h3: gtlsclient downloads one file and then several in one connection, bytes intact", "[testserver][h3]") {
  H3Fixture f;
  SECTION("one file") {
    const auto r = f.get({"/files/big.bin"}, quiet());
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(std::filesystem::file_size(f.dir / "dl" / "big.bin") == kBigSize);
    CHECK(sha256_file(f.dir / "dl" / "big.bin") == sha256_file(f.dir / "root" / "big.bin"));
  }
  SECTION("three files on one connection") {
    const auto r = f.get({"/files/big.bin", "/files/a.bin", "/files/b.bin"});
    REQUIRE(r.exit_code == 0);
    for (const auto* name : {"big.bin", "a.bin", "b.bin"}) {
      INFO(name);
      REQUIRE(std::filesystem::exists(f.dir / "dl" / name));
      CHECK(sha256_file(f.dir / "dl" / name) == sha256_file(f.dir / "root" / name));
    }
    // One handshake: the server accepted exactly one connection for all three.
    CHECK(count(f.server_log(), "connection accepted") == 1);
    CHECK(count(r.output, "[:status: 200]") == 3);
  }
}

TEST_CASE("h3: a Retry comes first by default, and not with --no-quic-retry", "[testserver][h3]") {
  SECTION("default") {
    H3Fixture f;
    const auto r = f.get({"/files/a.bin"});
    REQUIRE(r.exit_code == 0);
    CHECK(sha256_file(f.dir / "dl" / "a.bin") == sha256_file(f.dir / "root" / "a.bin"));
    CHECK(r.output.find("type=Retry") != std::string::npos);
    // The client checked our retry_source_connection_id transport parameter against the Retry.
    CHECK(r.output.find("retry_source_connection_id=") != std::string::npos);
    CHECK(count(f.server_log(), "Retry sent") == 1);
    CHECK(count(f.server_log(), "connection accepted after Retry") == 1);
  }
  SECTION("--no-quic-retry") {
    H3Fixture f({"--no-quic-retry"});
    const auto r = f.get({"/files/a.bin"});
    REQUIRE(r.exit_code == 0);
    CHECK(sha256_file(f.dir / "dl" / "a.bin") == sha256_file(f.dir / "root" / "a.bin"));
    CHECK(r.output.find("type=Retry") == std::string::npos);
    CHECK(count(f.server_log(), "Retry sent") == 0);
    CHECK(count(f.server_log(), "connection accepted") == 1);
  }
}

TEST_CASE("h3: an upload (POST with a body) is stored byte-identical and can be read back", "[testserver][h3]") {
  H3Fixture f;
  const auto body = f.dir / "upload.bin";
  xfer::test::write_pattern_file(body, 3'000'017, 21);
  const auto r = run_gtlsclient("127.0.0.1", f.server->h3_port(), {f.uri("/files/h3/up.bin")},
                                post(body));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("[:status: 201]") != std::string::npos);
  REQUIRE(std::filesystem::exists(f.dir / "root" / "h3" / "up.bin"));
  CHECK(sha256_file(f.dir / "root" / "h3" / "up.bin") == sha256_file(body));
  const auto back = f.get({"/files/h3/up.bin"}, quiet());
  REQUIRE(back.exit_code == 0);
  CHECK(sha256_file(f.dir / "dl" / "up.bin") == sha256_file(body));
}

TEST_CASE("h3: a stalled upload handler back-pressures the client through the stream window", "[testserver][h3]") {
  H3Fixture f;
  const auto body = f.dir / "upload.bin";
  constexpr std::uint64_t kSize = 9'000'000;
  xfer::test::write_pattern_file(body, kSize, 22);
  // The handler takes 1,000,000 bytes, then reads nothing for 1.5 s.
  const auto r = run_gtlsclient("127.0.0.1", f.server->h3_port(), {f.uri("/files/h3/bp.bin?fault=stall%3D1000000:1500")},
                                post(body));
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("[:status: 201]") != std::string::npos);
  CHECK(sha256_file(f.dir / "root" / "h3" / "bp.bin") == sha256_file(body));
  // gtlsclient's log: "I<ms> <cid> frm tx <pkn> 1RTT STREAM(0x0e) id=0x0 fin=0 offset=O len=L".
  // During the stall the client may send no further than what was consumed plus the 4 MiB
  // stream window (credit is only returned as the handler reads); without back-pressure all
  // 9 MB would be out within milliseconds.
  const std::regex frame(R"(I(\d+) \S+ frm tx \d+ \S+ STREAM\(0x0[8-9a-f]\) id=0x0 .*offset=(\d+) len=(\d+))");
  // Measured from the moment the client had sent the first 1,000,000 bytes (the handler cannot
  // stall before that), not from its first frame: on a loaded machine the first megabyte alone
  // may take longer than the window looked at.
  std::istringstream in(r.output);
  std::string line;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> sent;  // (ms, stream offset reached)
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, frame)) continue;
    sent.emplace_back(std::stoull(m[1]), std::stoull(m[2]) + std::stoull(m[3]));
  }
  std::optional<std::uint64_t> reached;
  std::uint64_t sent_total = 0;
  for (const auto& [t, end] : sent) {
    if (!reached && end >= 1'000'000) reached = t;
    sent_total = std::max(sent_total, end);
  }
  REQUIRE(reached);
  std::uint64_t sent_in_stall = 0;
  for (const auto& [t, end] : sent)
    if (t < *reached + 1000) sent_in_stall = std::max(sent_in_stall, end);
  CHECK(sent_total > kSize);  // the body and its framing went out in the end
  CHECK(sent_in_stall <= 1'000'000 + 4 * 1024 * 1024 + 64 * 1024);
}

TEST_CASE("h3: reset-after resets the stream after exactly N bytes, close-after closes the connection", "[testserver][h3]") {
  H3Fixture f;
  SECTION("reset-after on a download") {
    const auto r = f.get({"/files/big.bin?fault=reset-after%3D1000000"});
    INFO(r.output.substr(0, 4000));
    const auto file = f.dir / "dl" / "big.bin?fault=reset-after%3D1000000";
    REQUIRE(std::filesystem::exists(file));
    CHECK(std::filesystem::file_size(file) == 1'000'000);
    // RESET_STREAM with H3_INTERNAL_ERROR (0x102) reached the client; the connection stayed.
    CHECK(std::regex_search(r.output, std::regex(R"(frm rx \d+ 1RTT RESET_STREAM\(0x04\) id=0x0 app_error_code=\S*\(0x102\))")));
    CHECK(r.output.find("frm rx") != std::string::npos);
    CHECK_FALSE(std::regex_search(r.output, std::regex(R"(frm rx \d+ 1RTT CONNECTION_CLOSE)")));
    CHECK(f.server_log().find(R"("fault":"reset-after")") != std::string::npos);
  }
  SECTION("reset-after on an upload: RESET_STREAM and STOP_SENDING") {
    const auto body = f.dir / "upload.bin";
    xfer::test::write_pattern_file(body, 3'000'000, 23);
    const auto r = run_gtlsclient("127.0.0.1", f.server->h3_port(), {f.uri("/files/h3/rs.bin?fault=reset-after%3D1000000")},
                                  post(body));
    CHECK(std::regex_search(r.output, std::regex(R"(frm rx \d+ 1RTT RESET_STREAM\(0x04\) id=0x0 app_error_code=\S*\(0x102\))")));
    CHECK(std::regex_search(r.output, std::regex(R"(frm rx \d+ 1RTT STOP_SENDING\(0x05\) id=0x0 app_error_code=\S*\(0x102\))")));
    CHECK_FALSE(std::filesystem::exists(f.dir / "root" / "h3" / "rs.bin"));
  }
  SECTION("close-after on a download") {
    const auto r = f.get({"/files/big.bin?fault=close-after%3D1000000"});
    const auto file = f.dir / "dl" / "big.bin?fault=close-after%3D1000000";
    REQUIRE(std::filesystem::exists(file));
    CHECK(std::filesystem::file_size(file) == 1'000'000);
    // An application CONNECTION_CLOSE (0x1d) with H3_NO_ERROR (0x100).
    CHECK(std::regex_search(r.output, std::regex(R"(frm rx \d+ 1RTT CONNECTION_CLOSE\(0x1d\) error_code=\S*\(0x100\))")));
  }
  // The server serves on afterwards.
  const auto r = f.get({"/files/a.bin"}, quiet());
  REQUIRE(r.exit_code == 0);
  CHECK(sha256_file(f.dir / "dl" / "a.bin") == sha256_file(f.dir / "root" / "a.bin"));
}

TEST_CASE("h3: HTTP/1.1 and HTTP/2 responses over TLS announce HTTP/3 with Alt-Svc", "[testserver][h3]") {
  H3Fixture f;
  const std::string expected = "h3=\":" + std::to_string(f.server->h3_port()) + "\"; ma=86400";
  const auto body = (f.dir / "curl.out").string();
  for (const auto* version : {"--http1.1", "--http2"}) {
    INFO(version);
    const auto r = xts_test::curl(body, {version, "-k", f.server->https_origin() + "/files/a.bin"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.status() == 200);
    CHECK(r.final_response().header("alt-svc") == expected);
  }
  // Cleartext: no h3 alternative (it would only serve an https origin).
  const auto plain = xts_test::curl(body, {"--http1.1", f.server->http_origin() + "/files/a.bin"});
  CHECK(plain.status() == 200);
  CHECK_FALSE(plain.final_response().header("alt-svc"));
  // HTTP/3 responses do not carry it.
  const auto h3 = f.get({"/files/a.bin"});
  CHECK(h3.output.find("[alt-svc:") == std::string::npos);
  // Without HTTP/3, no Alt-Svc.
  H3Fixture off({"--no-http3"});
  const auto r = xts_test::curl(body, {"--http2", "-k", off.server->https_origin() + "/files/a.bin"});
  CHECK(r.status() == 200);
  CHECK_FALSE(r.final_response().header("alt-svc"));
}

TEST_CASE("h3: restart on the same ports keeps the UDP port - taken UDP port fails clearly", "[testserver][h3]") {
  H3Fixture f;
  const auto port = f.server->h3_port();
  f.server->restart(true);
  CHECK(f.server->h3_port() == port);
  const auto r = f.get({"/files/a.bin"}, quiet());
  REQUIRE(r.exit_code == 0);
  CHECK(sha256_file(f.dir / "dl" / "a.bin") == sha256_file(f.dir / "root" / "a.bin"));

  // Another process holds UDP at a port: --listen on that port fails with a sentence.
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const auto taken = ntohs(addr.sin_port);
  TempDir dir{"xts-h3-taken"};
  std::filesystem::create_directories(dir / "root");
  const auto p = xts_test::run_process({XFER_TESTSERVER_PATH, "--root", (dir / "root").string(), "--data",
                                        (dir / "data").string(), "--self-signed", "--listen",
                                        "127.0.0.1:" + std::to_string(taken)},
                                       20s);
  ::close(fd);
  CHECK(p.exit_code == 1);
  CHECK(p.err.find("cannot bind UDP") != std::string::npos);
}

TEST_CASE("h3: hostile datagrams are dropped or answered statelessly, service goes on", "[testserver][h3]") {
  H3Fixture f;
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(f.server->h3_port());
  auto send = [&](const std::vector<std::uint8_t>& d) {
    ::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  };
  // Garbage of every short length, a short header for an unknown connection, a truncated
  // long header, an Initial too small to be accepted.
  for (std::size_t n = 0; n < 64; ++n) send(std::vector<std::uint8_t>(n, static_cast<std::uint8_t>(n * 37)));
  send(std::vector<std::uint8_t>(1300, 0x40));
  send({0xc0, 0x00, 0x00, 0x00, 0x01, 0x14});
  std::vector<std::uint8_t> small_initial{0xc0, 0x00, 0x00, 0x00, 0x01, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00};
  small_initial.resize(200, 0);
  send(small_initial);
  // A long header with an unknown version, padded to 1200 bytes: Version Negotiation.
  std::vector<std::uint8_t> unknown{0xc0, 0x1a, 0x2b, 0x3c, 0x4d, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x04, 9, 9, 9, 9};
  unknown.resize(1200, 0);
  send(unknown);
  std::vector<std::uint8_t> reply(2048);
  pollfd p{fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  const auto n = ::recv(fd, reply.data(), reply.size(), 0);
  ::close(fd);
  REQUIRE(n >= 7);
  CHECK((reply[0] & 0x80) != 0);  // long header
  CHECK(reply[1] == 0);           // version 0: Version Negotiation
  CHECK(reply[2] == 0);
  CHECK(reply[3] == 0);
  CHECK(reply[4] == 0);
  // Mirrored CIDs: its DCID is our SCID (9 9 9 9).
  CHECK(reply[5] == 4);
  CHECK(reply[6] == 9);
  // The server serves on.
  const auto r = f.get({"/files/a.bin"}, quiet());
  REQUIRE(r.exit_code == 0);
  CHECK(sha256_file(f.dir / "dl" / "a.bin") == sha256_file(f.dir / "root" / "a.bin"));
}

TEST_CASE("h3: SIGTERM closes QUIC connections and the server exits 0", "[testserver][h3]") {
  H3Fixture f;
  // A download that would take about 25 s (throttled) is under way when the signal comes.
  xfer::test::GtlsClientResult r;
  std::thread client([&] {
    GtlsClientOptions o;
    o.download_dir = f.dir / "dl";
    o.timeout = 40s;
    r = run_gtlsclient("127.0.0.1", f.server->h3_port(), {f.uri("/files/big.bin?fault=throttle%3D200000")}, o);
  });
  std::this_thread::sleep_for(1500ms);
  const auto started = std::chrono::steady_clock::now();
  CHECK(f.server->stop(10s) == 0);
  client.join();
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  // The client heard an application CONNECTION_CLOSE with H3_NO_ERROR, not an idle timeout.
  CHECK(std::regex_search(r.output, std::regex(R"(frm rx \d+ 1RTT CONNECTION_CLOSE\(0x1d\) error_code=\S*\(0x100\))")));
  const auto file = f.dir / "dl" / "big.bin?fault=throttle%3D200000";
  REQUIRE(std::filesystem::exists(file));
  CHECK(std::filesystem::file_size(file) < kBigSize);
}
