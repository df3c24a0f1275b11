// Servers that lie or misbehave: each must end in a clear error and nothing at the destination.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "tests/integration/engine_harness.h"
#include "tests/integration/raw_http_server.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

std::string body_of(std::size_t n) { return std::string(n, 'x'); }

struct Outcome {
  Event terminal;
  fs::path destination;
};

Outcome download_from(RawHttpServer& server, const TempDir& dir) {
  auto config = test_engine_config();
  config.max_attempts = 3;
  config.want_digest = false;
  auto engine = Engine::open((dir / "journal").string(), config);
  REQUIRE(engine);
  DownloadSpec spec;
  spec.url = server.origin() + "/file.bin";
  spec.destination = (dir / "out" / "file.bin").string();
  auto id = (*engine)->enqueue(spec);
  REQUIRE(id);
  auto result = run_until_terminal(**engine, *id, std::chrono::seconds(30));
  REQUIRE(result.terminal);
  return {*result.terminal, spec.destination};
}

void check_failed_clean(const Outcome& o, const std::string& needle) {
  INFO(o.terminal.message);
  CHECK(o.terminal.kind == EventKind::Failed);
  CHECK(o.terminal.message.find(needle) != std::string::npos);
  CHECK_FALSE(fs::exists(o.destination));
}

}  // namespace

TEST_CASE("misbehaving: malformed Content-Range", "[engine][misbehaving]") {
  TempDir dir("xfer-raw");
  RawHttpServer server([](const std::string&, int) {
    return "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/50\r\nContent-Length: 100\r\n"
           "Connection: close\r\n\r\n" + body_of(100);
  });
  check_failed_clean(download_from(server, dir), "protocol");
}

TEST_CASE("misbehaving: 206 for another range than asked", "[engine][misbehaving]") {
  TempDir dir("xfer-raw");
  // First answer: the full 200 but cut halfway, so the client resumes with a Range; the
  // resumed answer is a 206 for bytes 0-499 instead of 500-.
  RawHttpServer server([](const std::string&, int n) {
    if (n == 0)
      return "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n" +
             body_of(500);
    return "HTTP/1.1 206 Partial Content\r\nETag: \"v1\"\r\nContent-Range: bytes 0-499/1000\r\n"
           "Content-Length: 500\r\nConnection: close\r\n\r\n" + body_of(500);
  });
  auto o = download_from(server, dir);
  check_failed_clean(o, "protocol");
  CHECK(server.requests() >= 2);
  CHECK_FALSE(fs::exists(o.destination.string() + ".part"));
}

TEST_CASE("misbehaving: Content-Length that lies (short body)", "[engine][misbehaving]") {
  TempDir dir("xfer-raw");
  RawHttpServer server([](const std::string&, int) {
    return "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n" + body_of(1000);
  });
  auto o = download_from(server, dir);
  INFO(o.terminal.message);
  CHECK(o.terminal.kind == EventKind::Failed);
  CHECK_FALSE(fs::exists(o.destination));
  CHECK(server.requests() == 3);  // max_attempts
}

TEST_CASE("misbehaving: body longer than Content-Length is never written past it",
          "[engine][misbehaving]") {
  TempDir dir("xfer-raw");
  RawHttpServer server([](const std::string&, int) {
    return "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" + body_of(5000);
  });
  auto o = download_from(server, dir);
  // libcurl stops at Content-Length; the 10 bytes are the representation.
  INFO(o.terminal.message);
  REQUIRE(o.terminal.kind == EventKind::Completed);
  CHECK(fs::file_size(o.destination) == 10);
}

TEST_CASE("misbehaving: redirect loop", "[engine][misbehaving]") {
  TempDir dir("xfer-raw");
  RawHttpServer server([](const std::string&, int) {
    return std::string("HTTP/1.1 302 Found\r\nLocation: /file.bin\r\nContent-Length: 0\r\n\r\n");
  });
  auto o = download_from(server, dir);
  INFO(o.terminal.message);
  CHECK(o.terminal.kind == EventKind::Failed);
  CHECK_FALSE(fs::exists(o.destination));
  CHECK(server.requests() < 100);
}

TEST_CASE("misbehaving: 1 MiB of response headers", "[engine][misbehaving]") {
  TempDir dir("xfer-raw");
  RawHttpServer server([](const std::string&, int) {
    std::string r = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; r.size() < (1 << 20); ++i) r += "X-Pad-" + std::to_string(i) + ": " + std::string(200, 'p') + "\r\n";
    r += "Content-Length: 10\r\n\r\n0123456789";
    return r;
  });
  auto o = download_from(server, dir);
  INFO(o.terminal.message);
  CHECK(o.terminal.kind == EventKind::Failed);
  CHECK_FALSE(fs::exists(o.destination));
}

TEST_CASE("misbehaving: unrequested compressed body (gzip bomb)", "[engine][misbehaving]") {
  TempDir dir("xfer-raw");
  RawHttpServer server([](const std::string&, int) {
    // A gzip header followed by junk; the client must not decode what it did not ask for.
    std::string gz("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
    gz += std::string(1000, '\0');
    return "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " +
           std::to_string(gz.size()) + "\r\n\r\n" + gz;
  });
  check_failed_clean(download_from(server, dir), "Content-Encoding");
}

TEST_CASE("misbehaving: a Content-Length no file can hold is a lie, not a full disk",
          "[engine][misbehaving]") {
  TempDir dir("xfer-raw");
  RawHttpServer server([](const std::string&, int) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n") +
           body_of(100);
  });
  const auto o = download_from(server, dir);
  check_failed_clean(o, "more than any file can hold");
  CHECK(o.terminal.message.find("protocol") != std::string::npos);
  CHECK_FALSE(fs::exists(o.destination.string() + ".part"));
}
