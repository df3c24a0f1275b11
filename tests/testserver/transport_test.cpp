// The transports of xfer-testserver against real peers: curl over HTTP/1.1 (plain and TLS),
// h2 over TLS and h2c with prior knowledge, nghttp, and raw sockets for hostile input (huge
// header blocks, slow-loris). Bytes are checked by SHA-256.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/files.h"
#include "tests/support/temp_dir.h"
#include "tests/support/testserver_process.h"
#include "tests/testserver/ts_helpers.h"

using namespace std::chrono_literals;
using xfer::test::TempDir;
using xfer::test::TestServerOptions;
using xfer::test::TestServerProcess;

namespace {

constexpr std::uint64_t kFileSize = 3 * 1024 * 1024 + 12345;  // several windows and batches

struct Fixture {
  TempDir dir{"xts-transport"};
  std::unique_ptr<TestServerProcess> server;

  explicit Fixture(std::vector<std::string> extra_args = {}) {
    std::filesystem::create_directories(dir / "root");
    xfer::test::write_pattern_file(dir / "root" / "blob.bin", kFileSize, 7);
    TestServerOptions options;
    options.root = dir / "root";
    options.data = dir / "data";
    options.extra_args = std::move(extra_args);
    options.log_file = dir / "server.log";
    server = TestServerProcess::start(options);
  }

  std::string read_slice(std::uint64_t first, std::uint64_t last) const {
    std::ifstream in(dir / "root" / "blob.bin", std::ios::binary);
    std::string out(last - first + 1, '\0');
    in.seekg(static_cast<std::streamoff>(first));
    in.read(out.data(), static_cast<std::streamsize>(out.size()));
    return out;
  }
};

struct Transport {
  const char* name;
  std::vector<std::string> curl_args;
  bool tls;
  const char* expect_version;  // curl's %{http_version}
};

const std::vector<Transport>& transports() {
  static const std::vector<Transport> kAll = {
      {"http/1.1 plain", {"--http1.1"}, false, "1.1"},
      {"http/1.1 tls", {"--http1.1", "-k"}, true, "1.1"},
      {"h2 tls", {"--http2", "-k"}, true, "2"},
      {"h2c prior knowledge", {"--http2-prior-knowledge"}, false, "2"},
  };
  return kAll;
}

std::string origin(const Fixture& f, const Transport& t) {
  return t.tls ? f.server->https_origin() : f.server->http_origin();
}

struct CurlRun {
  int exit_code;
  std::string version;
  int status;
  std::string body;
};

// curl -o file -w "<version> <status>" with the transport's flags.
CurlRun run_curl(const Fixture& f, const Transport& t, const std::string& path,
                 std::vector<std::string> extra = {}) {
  const auto out_file = (f.dir / "curl.out").string();
  std::vector<std::string> argv{"curl", "-sS", "--max-time", "60", "-o", out_file, "-w",
                                "%{http_version} %{http_code}"};
  argv.insert(argv.end(), t.curl_args.begin(), t.curl_args.end());
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(origin(f, t) + path);
  ::unlink(out_file.c_str());
  const auto p = xts_test::run_process(argv, 90s);
  CurlRun run{p.exit_code, "", 0, xts_test::read_all(out_file)};
  const auto space = p.out.find(' ');
  if (space != std::string::npos) {
    run.version = p.out.substr(0, space);
    run.status = std::atoi(p.out.c_str() + space + 1);
  }
  if (p.exit_code != 0) UNSCOPED_INFO("curl stderr: " << p.err);
  return run;
}

// A blocking loopback TCP socket with a receive timeout.
class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{0, 200'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawSocket() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool send_all(const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      const auto n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  // One recv: >0 bytes appended, 0 = peer closed, -1 = timeout (nothing yet), -2 = error.
  int receive(std::string& into) {
    char buf[65536];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      into.append(buf, static_cast<std::size_t>(n));
      return static_cast<int>(n);
    }
    if (n == 0) return 0;
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? -1 : -2;
  }
  // Reads until the peer closes or `limit` passes; returns what arrived and whether it closed.
  std::pair<std::string, bool> read_until_closed(std::chrono::milliseconds limit) {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      const int r = receive(got);
      if (r == 0 || r == -2) return {got, true};
    }
    return {got, false};
  }

 private:
  int fd_;
  bool connected_ = false;
};

}  // namespace

TEST_CASE("ready line is one JSON object with the ports and the certificate", "[testserver][transport]") {
  Fixture f;
  const std::regex shape(R"re(^\{"ready":true,"tls_port":(\d+),"plain_port":(\d+),"h3_port":(\d+),"cert":"([^"]+)"\}$)re");
  std::smatch m;
  const std::string line = f.server->ready_line();
  INFO(line);
  REQUIRE(std::regex_match(line, m, shape));
  CHECK(std::stoi(m[1]) == f.server->tls_port());
  CHECK(std::stoi(m[2]) == f.server->plain_port());
  CHECK(std::stoi(m[3]) == f.server->h3_port());  // HTTP/3: UDP at the TLS port number
  CHECK(f.server->h3_port() == f.server->tls_port());
  CHECK(f.server->tls_port() != 0);
  CHECK(f.server->plain_port() != 0);
  CHECK(f.server->tls_port() != f.server->plain_port());
  CHECK(std::filesystem::exists(f.server->cert()));
  // The self-signed certificate verifies as localhost and 127.0.0.1 (curl --cacert).
  const auto p = xts_test::run_process({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                                        f.server->cert().string(),
                                        f.server->https_origin() + "/files/blob.bin"});
  CHECK(p.exit_code == 0);
  CHECK(p.out == "200");
}

TEST_CASE("GET a file over every transport, bytes intact", "[testserver][transport]") {
  Fixture f;
  const auto expected = xfer::test::sha256_file(f.dir / "root" / "blob.bin");
  for (const auto& t : transports()) {
    SECTION(t.name) {
      const auto run = run_curl(f, t, "/files/blob.bin");
      CHECK(run.exit_code == 0);
      CHECK(run.version == t.expect_version);
      CHECK(run.status == 200);
      CHECK(run.body.size() == kFileSize);
      CHECK(xfer::test::sha256_hex(run.body.data(), run.body.size()) == expected);
    }
  }
}

TEST_CASE("ranged GET over every transport", "[testserver][transport]") {
  Fixture f;
  const std::uint64_t first = 100'001;
  const std::uint64_t last = kFileSize - 7;
  const auto expected = f.read_slice(first, last);
  for (const auto& t : transports()) {
    SECTION(t.name) {
      const auto run = run_curl(f, t, "/files/blob.bin", {"-r", std::to_string(first) + "-" + std::to_string(last)});
      CHECK(run.exit_code == 0);
      CHECK(run.status == 206);
      CHECK(run.body.size() == expected.size());
      CHECK(run.body == expected);
    }
  }
}

TEST_CASE("PUT a body over every transport, bytes intact", "[testserver][transport]") {
  Fixture f;
  const auto src = f.dir / "upload.bin";
  xfer::test::write_pattern_file(src, kFileSize, 99);
  const auto expected = xfer::test::sha256_file(src);
  int n = 0;
  for (const auto& t : transports()) {
    SECTION(t.name) {
      const std::string name = "put-" + std::to_string(n) + ".bin";
      const auto run = run_curl(f, t, "/files/" + name,
                                {"-X", "PUT", "--data-binary", "@" + src.string(), "-H", "Expect:"});
      CHECK(run.exit_code == 0);
      CHECK((run.status == 200 || run.status == 201 || run.status == 204));
      REQUIRE(std::filesystem::exists(f.dir / "root" / name));
      CHECK(xfer::test::sha256_file(f.dir / "root" / name) == expected);
    }
    ++n;
  }
}

TEST_CASE("HTTP/1.1 keeps the connection alive across requests", "[testserver][transport]") {
  Fixture f;
  for (const auto& t : {transports()[0], transports()[1]}) {
    const auto url = origin(f, t) + "/files/blob.bin";
    std::vector<std::string> argv{"curl", "-sS", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects} "};
    argv.insert(argv.end(), t.curl_args.begin(), t.curl_args.end());
    argv.push_back(url);
    argv.push_back(url);
    const auto p = xts_test::run_process(argv, 60s);
    CHECK(p.exit_code == 0);
    CHECK(p.out == "1 0 ");  // the second transfer reused the first connection
  }
}

TEST_CASE("nghttp fetches over h2 (TLS and h2c) and sees our SETTINGS", "[testserver][transport]") {
  Fixture f;
  const auto expected = xfer::test::sha256_file(f.dir / "root" / "blob.bin");
  for (const auto& base : {f.server->https_origin(), f.server->http_origin()}) {
    const auto body = xts_test::run_process({"nghttp", base + "/files/blob.bin"}, 60s);
    CHECK(body.exit_code == 0);
    CHECK(body.out.size() == kFileSize);
    CHECK(xfer::test::sha256_hex(body.out.data(), body.out.size()) == expected);

    const auto verbose = xts_test::run_process({"nghttp", "-nv", base + "/files/blob.bin"}, 60s);
    CHECK(verbose.exit_code == 0);
    CHECK(verbose.out.find("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100") != std::string::npos);
    CHECK(verbose.out.find("SETTINGS_MAX_HEADER_LIST_SIZE(0x06):65536") != std::string::npos);
    CHECK(verbose.out.find(":status: 200") != std::string::npos);

    const auto ranged = xts_test::run_process(
        {"nghttp", "-H", "range: bytes=10-1048585", base + "/files/blob.bin"}, 60s);
    CHECK(ranged.exit_code == 0);
    CHECK(ranged.out == f.read_slice(10, 1048585));
  }
}

TEST_CASE("SIGTERM shuts the server down cleanly with exit code 0", "[testserver][transport]") {
  Fixture f;
  // An idle HTTP/1.1 connection and a served h2 request are in place when the signal arrives.
  RawSocket idle(f.server->plain_port());
  REQUIRE(idle.connected());
  const auto run = run_curl(f, transports()[2], "/files/blob.bin");
  CHECK(run.status == 200);
  const auto started = std::chrono::steady_clock::now();
  CHECK(f.server->stop(10s) == 0);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK_FALSE(f.server->running());
}

TEST_CASE("10,000 request headers get 431 or a closed connection, and the server lives on", "[testserver][transport]") {
  Fixture f;
  const auto header_file = f.dir / "headers.txt";
  {
    std::ofstream out(header_file);
    for (int i = 0; i < 10000; ++i) out << "X-Flood-" << i << ": value-" << i << "\n";
  }
  for (const auto& t : transports()) {
    SECTION(t.name) {
      const auto run = run_curl(f, t, "/files/blob.bin", {"-H", "@" + header_file.string()});
      INFO("curl exit " << run.exit_code << " status " << run.status);
      CHECK((run.status == 431 || run.exit_code != 0));
      CHECK(run.status != 200);
      // Still serving.
      const auto after = run_curl(f, t, "/files/blob.bin");
      CHECK(after.status == 200);
      CHECK(after.body.size() == kFileSize);
      CHECK(f.server->running());
    }
  }
  SECTION("raw HTTP/1.1: too many bytes, then too many small fields") {
    {
      RawSocket s(f.server->plain_port());
      std::string request = "GET /files/blob.bin HTTP/1.1\r\nHost: x\r\n";
      for (int i = 0; i < 10000; ++i) request += "X-Flood-" + std::to_string(i) + ": v\r\n";
      request += "\r\n";
      s.send_all(request);  // the server may close before taking it all
      const auto [reply, closed] = s.read_until_closed(5s);
      CHECK(reply.rfind("HTTP/1.1 431 ", 0) == 0);
      CHECK(closed);
    }
    {
      RawSocket s(f.server->plain_port());
      std::string request = "GET /files/blob.bin HTTP/1.1\r\nHost: x\r\n";
      for (int i = 0; i < 500; ++i) request += "a: b\r\n";  // 3 KB, but 500 fields
      request += "\r\n";
      REQUIRE(s.send_all(request));
      const auto [reply, closed] = s.read_until_closed(5s);
      CHECK(reply.rfind("HTTP/1.1 431 ", 0) == 0);
      CHECK(closed);
    }
    {
      RawSocket s(f.server->plain_port());
      REQUIRE(s.send_all("GARBAGE\r\n\r\n"));
      const auto [reply, closed] = s.read_until_closed(5s);
      CHECK(reply.rfind("HTTP/1.1 400 ", 0) == 0);
      CHECK(closed);
    }
    const auto after = run_curl(f, transports()[0], "/files/blob.bin");
    CHECK(after.status == 200);
  }
}

TEST_CASE("slow-loris clients are cut off after the header timeout while others are served", "[testserver][transport]") {
  constexpr auto kTimeout = 1500ms;
  Fixture f({"--header-timeout-ms", "1500"});
  using namespace std::string_literals;
  const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  const std::string empty_settings("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);
  // HEADERS on stream 1 carrying ":method: GET" (HPACK index 2) without END_HEADERS: the
  // header block never ends.
  const std::string open_headers("\x00\x00\x01\x01\x00\x00\x00\x00\x01\x82", 10);
  struct Loris {
    const char* name;
    bool tls_port;
    std::string opening;  // sent at once
    std::string trickle;  // then one byte of this every 400 ms (cycled if `cycle`)
    bool cycle;
  };
  const std::vector<Loris> lorises = {
      {"http/1.1 partial header", false, "GET /files/blob.bin HTTP/1.1\r\nHost: x\r\nX-Slow: ", "a", true},
      {"h2c partial preface", false, preface.substr(0, 16), preface.substr(16) + empty_settings, false},
      {"h2 header block never ends", false, preface + empty_settings + open_headers, "", false},
      {"tls, no handshake", true, "", "", false},
  };
  for (const auto& loris : lorises) {
    SECTION(loris.name) {
      std::atomic<bool> closed{false};
      std::atomic<long> closed_after_ms{-1};
      std::thread slow([&] {
        RawSocket s(loris.tls_port ? f.server->tls_port() : f.server->plain_port());
        if (!s.connected()) return;
        const auto start = std::chrono::steady_clock::now();
        s.send_all(loris.opening);
        std::string ignored;
        std::size_t sent = 0;
        // Trickle until the server hangs up, bounded at 5x the timeout.
        while (std::chrono::steady_clock::now() - start < 5 * kTimeout) {
          if (!loris.trickle.empty() && (loris.cycle || sent < loris.trickle.size())) {
            if (!s.send_all(std::string(1, loris.trickle[sent % loris.trickle.size()]))) break;
            ++sent;
          }
          int r = s.receive(ignored);  // each receive waits up to 200 ms
          if (r == -1) r = s.receive(ignored);
          if (r == 0 || r == -2) break;
        }
        closed_after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - start).count();
        closed = std::chrono::steady_clock::now() - start < 5 * kTimeout;
      });
      // Meanwhile, normal requests are served promptly.
      for (int i = 0; i < 3; ++i) {
        const auto run = run_curl(f, transports()[i % 4], "/files/blob.bin");
        CHECK(run.status == 200);
        CHECK(run.body.size() == kFileSize);
      }
      slow.join();
      INFO("closed after " << closed_after_ms << " ms");
      CHECK(closed);
      CHECK(closed_after_ms >= 1000);   // it was the timeout, not an immediate rejection
      CHECK(closed_after_ms <= 4000);   // and the timeout is enforced
      CHECK(f.server->running());
    }
  }
}

TEST_CASE("aborts end each transport as documented", "[testserver][transport]") {
  // The fault decorator writes 100000 body bytes, then calls Exchange::abort_close or
  // abort_reset: HTTP/1.1 ends with FIN or TCP RST, h2 with GOAWAY or RST_STREAM.
  Fixture f;
  const auto prefix = f.read_slice(0, 99'999);
  for (const auto& t : transports()) {
    SECTION(std::string(t.name) + " close-after") {
      const auto run = run_curl(f, t, "/files/blob.bin?fault=close-after=100000");
      CHECK(run.exit_code == 18);  // partial file: the connection ended cleanly mid-body
      CHECK(run.status == 200);
      CHECK(run.body == prefix);
    }
    SECTION(std::string(t.name) + " reset-after") {
      const auto run = run_curl(f, t, "/files/blob.bin?fault=reset-after=100000");
      // HTTP/1.1: 56 (connection reset); h2: 92 (stream reset with INTERNAL_ERROR). A client
      // may drop bytes it had buffered when the reset arrives, never get more.
      CHECK(run.exit_code == (std::string(t.expect_version) == "2" ? 92 : 56));
      CHECK(run.body.size() <= prefix.size());
      CHECK(run.body == prefix.substr(0, run.body.size()));
    }
  }
  SECTION("nghttp sees every byte before RST_STREAM and GOAWAY") {
    for (const auto& base : {f.server->https_origin(), f.server->http_origin()}) {
      const auto reset = xts_test::run_process({"nghttp", "-v", base + "/files/blob.bin?fault=reset-after=100000"}, 60s);
      CHECK(reset.out.find("recv RST_STREAM") != std::string::npos);
      CHECK(reset.out.find("(error_code=INTERNAL_ERROR(0x02))") != std::string::npos);
      const auto body = xts_test::run_process({"nghttp", base + "/files/blob.bin?fault=reset-after=100000"}, 60s);
      CHECK(body.out == prefix);
      const auto close = xts_test::run_process({"nghttp", "-v", base + "/files/blob.bin?fault=close-after=100000"}, 60s);
      CHECK(close.out.find("recv GOAWAY") != std::string::npos);
    }
  }
  // Still serving afterwards.
  CHECK(run_curl(f, transports()[2], "/files/blob.bin").status == 200);
}

// Found by tests/fuzz/ts_request_target: an absolute-form target with an empty path
// ("http://host?q") took a '/' inside its query for the path.
TEST_CASE("absolute-form request targets: the path ends at the query and may be empty", "[testserver][transport]") {
  Fixture f;
  const auto get = [&](const std::string& target) {
    RawSocket s(f.server->plain_port());
    REQUIRE(s.connected());
    REQUIRE(s.send_all("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    return s.read_until_closed(5s).first;
  };
  const std::string host = "http://127.0.0.1:" + std::to_string(f.server->plain_port());
  CHECK(get(host + "/files/blob.bin?a=/b").rfind("HTTP/1.1 200 ", 0) == 0);
  // Path "/" (not found), never /files/blob.bin out of the query.
  CHECK(get(host + "?a=/files/blob.bin").rfind("HTTP/1.1 404 ", 0) == 0);
  CHECK(get(host).rfind("HTTP/1.1 404 ", 0) == 0);
}
