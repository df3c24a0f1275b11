// The engine's default transport follows redirects with the origin rule of
// protocols/redirect/redirect_policy.h (design.md invariant 7): caller headers reach the
// origin of the URL they were given for and no other, over HTTP/1.1 (two raw servers = two
// origins) and HTTP/2 (nginx redirecting to xfer-testserver over h2c and h2+TLS).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "tests/integration/engine_harness.h"
#include "tests/integration/raw_http_server.h"
#include "tests/support/files.h"
#include "tests/support/nginx_process.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const std::vector<std::pair<std::string, std::string>> kCallerHeaders = {
    {"X-Api-Key", "k-123"}, {"Authorization", "Bearer secret-token"}};

// Request heads a raw server saw, readable from the test thread.
struct Heads {
  std::mutex mutex;
  std::vector<std::string> seen;
  void add(const std::string& head) {
    std::lock_guard lock(mutex);
    seen.push_back(head);
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mutex);
    return seen;
  }
};

Event download(const TempDir& dir, const std::string& url, EngineConfig config = {},
               HttpVersion protocol = HttpVersion::Any) {
  config.max_attempts = 2;
  config.want_digest = false;
  auto engine = Engine::open((dir / "journal").string(), config);
  REQUIRE(engine);
  DownloadSpec spec;
  spec.url = url;
  spec.destination = (dir / "out" / "file.bin").string();
  spec.headers = kCallerHeaders;
  spec.protocol = protocol;
  auto id = (*engine)->enqueue(spec);
  REQUIRE(id);
  auto result = run_until_terminal(**engine, *id, std::chrono::seconds(30));
  REQUIRE(result.terminal);
  return *result.terminal;
}

std::string ok_response(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string redirect_response(int status, const std::string& location) {
  return "HTTP/1.1 " + std::to_string(status) + " Moved\r\nLocation: " + location +
         "\r\nContent-Length: 7\r\n\r\nmoved.\n";
}

}  // namespace

TEST_CASE("redirect: caller headers stay with their origin over HTTP/1.1", "[engine][redirect]") {
  TempDir dir("xfer-redirect");
  Heads first_heads;
  Heads second_heads;
  RawHttpServer second([&](const std::string& head, int) {
    second_heads.add(head);
    return ok_response("the file body");
  });
  RawHttpServer first([&](const std::string& head, int) {
    first_heads.add(head);
    return redirect_response(302, second.origin() + "/elsewhere/file.bin");
  });
  const Event terminal = download(dir, first.origin() + "/file.bin", test_engine_config());
  INFO(terminal.message);
  REQUIRE(terminal.kind == EventKind::Completed);
  CHECK(read_file(dir / "out" / "file.bin") == "the file body");
  REQUIRE(first_heads.all().size() == 1);
  REQUIRE(second_heads.all().size() == 1);
  const std::string a = first_heads.all()[0];
  const std::string b = second_heads.all()[0];
  INFO(a << "\n" << b);
  CHECK(a.find("X-Api-Key: k-123") != std::string::npos);
  CHECK(a.find("Authorization: Bearer secret-token") != std::string::npos);
  CHECK(b.starts_with("GET /elsewhere/file.bin "));
  CHECK(b.find("k-123") == std::string::npos);
  CHECK(b.find("secret-token") == std::string::npos);
}

TEST_CASE("redirect: a relative Location on the same origin keeps the headers",
          "[engine][redirect]") {
  TempDir dir("xfer-redirect");
  Heads heads;
  RawHttpServer server([&](const std::string& head, int n) {
    heads.add(head);
    return n == 0 ? redirect_response(301, "../other/./file.bin") : ok_response("relative");
  });
  const Event terminal = download(dir, server.origin() + "/dir/file.bin", test_engine_config());
  INFO(terminal.message);
  REQUIRE(terminal.kind == EventKind::Completed);
  CHECK(read_file(dir / "out" / "file.bin") == "relative");
  const auto seen = heads.all();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].starts_with("GET /other/file.bin "));
  CHECK(seen[1].find("X-Api-Key: k-123") != std::string::npos);
  CHECK(seen[1].find("Authorization: Bearer secret-token") != std::string::npos);
}

TEST_CASE("redirect: a loop fails as a protocol error after max_redirects", "[engine][redirect]") {
  TempDir dir("xfer-redirect");
  RawHttpServer server([](const std::string&, int) { return redirect_response(302, "/loop"); });
  EngineConfig config = test_engine_config();
  config.max_redirects = 4;
  const Event terminal = download(dir, server.origin() + "/loop", config);
  INFO(terminal.message);
  CHECK(terminal.kind == EventKind::Failed);
  CHECK(terminal.message.find("too many redirects") != std::string::npos);
  CHECK(terminal.message.find("protocol") != std::string::npos);
  CHECK(server.requests() == 5);  // not retried: a loop stays a loop
  CHECK_FALSE(fs::exists(dir / "out" / "file.bin"));
}

TEST_CASE("redirect: caller headers stay with their origin over HTTP/2 (h2c, h2+TLS)",
          "[engine][redirect]") {
  const bool tls = GENERATE(false, true);
  INFO((tls ? "h2+TLS" : "h2c"));
  TempDir dir("xfer-redirect");
  fs::create_directories(dir / "root");
  write_pattern_file(dir / "root" / "file.bin", 300 * 1024, 9);
  auto server = start_server(dir);
  // nginx (the first origin) insists on the key, then sends us to the test server. Were the
  // caller's Xfer-Fault field forwarded, the test server would answer 404 (see the control).
  NginxOptions options;
  options.root = dir / "nginx-root";
  options.h2c_port = true;
  options.extra_server_config =
      "    location = /go {\n"
      "      if ($http_x_api_key != \"k-123\") { return 403; }\n"
      "      if ($scheme = https) { return 302 " +
      server->https_origin() +
      "/files/file.bin; }\n"
      "      return 302 " +
      server->http_origin() +
      "/files/file.bin;\n"
      "    }\n";
  auto nginx = NginxProcess::start(options);
  const fs::path bundle = dir / "ca-bundle.pem";
  {
    std::ofstream out(bundle);
    out << read_file(server->cert()) << "\n" << read_file(nginx->ca_file());
  }
  EngineConfig config = test_engine_config(bundle);
  const std::string origin = tls ? nginx->https_origin() : nginx->h2c_origin();

  SECTION("followed across origins without the caller's fields") {
    auto engine = Engine::open((dir / "journal").string(), config);
    REQUIRE(engine);
    DownloadSpec spec;
    spec.url = origin + "/go";
    spec.destination = (dir / "out" / "file.bin").string();
    spec.headers = kCallerHeaders;
    spec.headers.emplace_back("Xfer-Fault", "status=404");
    spec.protocol = HttpVersion::Http2;
    auto id = (*engine)->enqueue(spec);
    REQUIRE(id);
    auto result = run_until_terminal(**engine, *id, std::chrono::seconds(30));
    REQUIRE(result.terminal);
    INFO(result.terminal->message);
    REQUIRE(result.terminal->kind == EventKind::Completed);
    CHECK(sha256_file(dir / "out" / "file.bin") == sha256_file(dir / "root" / "file.bin"));
    const auto log = nginx->wait_for_access_log(1);
    REQUIRE(log.size() == 1);
    CHECK(log[0].find("\"GET /go HTTP/2.0\" 302") != std::string::npos);
    CHECK(log[0].find("Bearer secret-token") != std::string::npos);
  }
  SECTION("control: sent to the test server directly, the field takes effect") {
    auto engine = Engine::open((dir / "journal").string(), config);
    REQUIRE(engine);
    DownloadSpec spec;
    spec.url = (tls ? server->https_origin() : server->http_origin()) + "/files/file.bin";
    spec.destination = (dir / "out" / "file.bin").string();
    spec.headers = {{"Xfer-Fault", "status=404"}};
    spec.protocol = HttpVersion::Http2;
    auto id = (*engine)->enqueue(spec);
    REQUIRE(id);
    auto result = run_until_terminal(**engine, *id, std::chrono::seconds(30));
    REQUIRE(result.terminal);
    INFO(result.terminal->message);
    CHECK(result.terminal->kind == EventKind::Failed);
    CHECK(result.terminal->message.find("404") != std::string::npos);
  }
}
