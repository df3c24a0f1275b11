// Uploads through the Engine API: the 104's Location is journaled while the body keeps
// streaming (over HTTP/1.1 and h2c), events carry the upload resource, cancel sends DELETE;
// and servers written here that lie about offsets, limits and locations, each of which must
// end in a clear error without losing or inventing a byte.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/ascii.h"

#include "store/journal.h"
#include "tests/integration/engine_harness.h"
#include "tests/integration/raw_http_server.h"
#include "tests/integration/server_stats.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

UploadSpec upload_of(const fs::path& source, const std::string& url) {
  UploadSpec spec;
  spec.source = source.string();
  spec.url = url;
  return spec;
}

std::string uploaded_file(const TempDir& dir) {
  for (const auto& e : fs::directory_iterator(dir / "root" / "uploads")) return e.path().string();
  return {};
}

}  // namespace

TEST_CASE("the 104's Location is journaled while the body keeps streaming",
          "[engine][upload]") {
  for (const HttpVersion version : {HttpVersion::Http1_1, HttpVersion::Http2}) {
    CAPTURE(to_string(version));
    TempDir dir("xfer-up-104");
    auto server = start_server(dir);
    const auto source = dir / "src.bin";
    // Large enough that socket buffers cannot swallow the body before the 104 arrives.
    write_pattern_file(source, 24'000'000, 5);
    auto engine = Engine::open((dir / "journal").string(), test_engine_config());
    REQUIRE(engine);
    auto spec = upload_of(source, server->http_origin() + "/uploads");
    spec.creation = UploadCreation::Optimistic;
    spec.protocol_version = version;
    spec.headers = {{"Xfer-Fault", "throttle=12000000"}};  // about two seconds of body
    auto id = (*engine)->enqueue(spec);
    REQUIRE(id);
    auto result = run_until_terminal(**engine, *id);
    REQUIRE(result.terminal);
    INFO(result.terminal->message);
    REQUIRE(result.terminal->kind == EventKind::Completed);
    CHECK(result.terminal->direction == Direction::Upload);
    CHECK(result.terminal->upload_url.find("/uploads/") != std::string::npos);
    // The resource was announced mid-body, and bytes kept moving after it: the 104 did not
    // hold the body back (no Expect wait, no stall until the final response).
    std::size_t announced = result.events.size();
    std::uint64_t bytes_then = 0;
    for (std::size_t i = 0; i < result.events.size(); ++i) {
      const auto& e = result.events[i];
      if (e.kind == EventKind::StateChanged && e.message.rfind("upload resource ", 0) == 0) {
        announced = i;
        bytes_then = e.bytes;
        CHECK(e.upload_url == result.terminal->upload_url);
        break;
      }
    }
    REQUIRE(announced < result.events.size());
    CHECK(bytes_then < 24'000'000);
    bool progressed_after = false;
    for (std::size_t i = announced + 1; i < result.events.size(); ++i)
      if (result.events[i].kind == EventKind::Progress && result.events[i].bytes > bytes_then)
        progressed_after = true;
    CHECK(progressed_after);
    CHECK(sha256_file(uploaded_file(dir)) == sha256_file(source));
    auto st = (*engine)->status(*id);
    REQUIRE(st);
    CHECK(st->direction == Direction::Upload);
    CHECK(st->durable_bytes == 24'000'000);
    CHECK(st->upload_url == result.terminal->upload_url);
  }
}

TEST_CASE("cancelling an upload deletes its resource on the server, running or paused",
          "[engine][upload]") {
  for (const bool paused_first : {false, true}) {
    CAPTURE(paused_first);
    TempDir dir("xfer-up-cancel");
    auto server = start_server(dir);
    const auto source = dir / "src.bin";
    write_pattern_file(source, 4'000'000, 6);
    auto engine = Engine::open((dir / "journal").string(), test_engine_config());
    REQUIRE(engine);
    auto spec = upload_of(source, server->http_origin() + "/uploads");
    spec.creation = UploadCreation::Careful;
    spec.headers = {{"Xfer-Fault", "throttle=1000000"}};
    auto id = (*engine)->enqueue(spec);
    REQUIRE(id);
    std::string resource;
    for (int i = 0; i < 200 && resource.empty(); ++i) {
      auto e = (*engine)->next_event(std::chrono::milliseconds(50));
      if (e && !e->upload_url.empty()) resource = e->upload_url;
    }
    REQUIRE_FALSE(resource.empty());
    if (paused_first) {
      REQUIRE((*engine)->pause(*id));
      for (int i = 0; i < 200; ++i) {
        auto st = (*engine)->status(*id);
        if (st && st->state == TransferState::Paused) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      REQUIRE((*engine)->status(*id)->state == TransferState::Paused);
    }
    REQUIRE((*engine)->cancel(*id));
    auto result = run_until_terminal(**engine, *id);
    REQUIRE(result.terminal);
    CHECK(result.terminal->kind == EventKind::Cancelled);
    // The server forgot it: offset retrieval answers 404.
    const auto head = run_cli({"get", resource, "-o", (dir / "probe").string(), "--journal",
                               (dir / "probe-journal").string(), "--retry", "0"});
    CHECK(head.exit_code == 5);
    CHECK(head.stderr_text.find("404") != std::string::npos);
  }
}

TEST_CASE("completed uploads report the source's digest when asked, also after a cut",
          "[engine][upload][digest]") {
  const auto protocol = GENERATE(UploadProtocol::Ietf, UploadProtocol::Plain);
  const auto version = GENERATE(HttpVersion::Http1_1, HttpVersion::Http2);
  // 3 MB: hashed by the completion alone; 20 MB: mostly by hash-ahead jobs beside the sending.
  const std::uint64_t size = GENERATE(3'000'000 + 5, 20'000'000 + 5);
  CAPTURE(static_cast<int>(protocol), to_string(version), size);
  TempDir dir("xfer-up-digest");
  fs::create_directories(dir / "root");
  auto server = start_server(dir, {"--control"});
  const auto source = dir / "src.bin";
  write_pattern_file(source, size, 9);
  EngineConfig config = test_engine_config();
  config.report_digests = true;
  auto engine = Engine::open((dir / "journal").string(), config);
  REQUIRE(engine);
  const bool plain = protocol == UploadProtocol::Plain;
  auto spec = upload_of(source, server->http_origin() + (plain ? "/files/put.bin" : "/uploads"));
  spec.protocol = protocol;
  spec.protocol_version = version;
  spec.chunk_size = size / 5;  // IETF: several appends
  // The creation carries the first chunk whatever the size (Auto sends a large file's creation
  // empty), so the one cut below falls in a body.
  spec.creation = UploadCreation::Optimistic;
  spec.headers = {{"Xfer-Fault", "reset-after=" + std::to_string(size / 8) + ",times=1"}};
  auto id = (*engine)->enqueue(spec);
  REQUIRE(id);
  auto result = run_until_terminal(**engine, *id, std::chrono::seconds(120));
  REQUIRE(result.terminal);
  INFO(result.terminal->message);
  REQUIRE(result.terminal->kind == EventKind::Completed);
  const std::string stored = plain ? (dir / "root" / "put.bin").string() : uploaded_file(dir);
  REQUIRE(sha256_file(stored) == sha256_file(source));
  CHECK(result.terminal->digest == "sha256:" + sha256_file(source));
  // The cut happened (plain PUT then sends everything again; IETF asks the offset and goes on).
  CHECK(control_json(*server, dir, "log").find("reset") != std::string::npos);
}

namespace {

struct RawOutcome {
  Event terminal;
  int requests = 0;
  std::vector<Event> events;
};

// Uploads a 100,000-byte file to a raw server; `careful` sends an empty creation first.
// `adjust` changes the config and the spec before the upload is queued.
RawOutcome upload_to(RawHttpServer& server, const TempDir& dir, UploadCreation creation,
                     std::uint32_t interop = 10, std::uint64_t chunk = 0,
                     const std::function<void(EngineConfig&, UploadSpec&)>& adjust = {}) {
  const auto source = dir / "src.bin";
  write_pattern_file(source, 100'000, 8);
  auto config = test_engine_config();
  config.max_attempts = 3;
  auto spec = upload_of(source, server.origin() + "/uploads");
  spec.creation = creation;
  spec.interop_version = interop;
  spec.chunk_size = chunk;
  if (adjust) adjust(config, spec);
  auto engine = Engine::open((dir / "journal").string(), config);
  REQUIRE(engine);
  auto id = (*engine)->enqueue(spec);
  REQUIRE(id);
  auto result = run_until_terminal(**engine, *id, std::chrono::seconds(30));
  REQUIRE(result.terminal);
  return {*result.terminal, server.requests(), std::move(result.events)};
}

std::string created(const std::string& extra) {
  return "HTTP/1.1 201 Created\r\nLocation: /uploads/r1\r\nUpload-Complete: ?0\r\n" + extra +
         "Content-Length: 0\r\nConnection: close\r\n\r\n";
}

void check_failed(const RawOutcome& o, const std::string& needle) {
  INFO(o.terminal.message);
  CHECK(o.terminal.kind == EventKind::Failed);
  CHECK(o.terminal.message.find(needle) != std::string::npos);
  REQUIRE(o.terminal.error);
  CHECK(o.terminal.error->category() == ErrorCategory::Protocol);
}

}  // namespace

TEST_CASE("misbehaving upload servers end in clear errors", "[engine][upload][misbehaving]") {
  TempDir dir("xfer-up-raw");
  SECTION("garbage Upload-Offset in the creation response") {
    RawHttpServer server([](const std::string&, int) { return created("Upload-Offset: banana\r\n"); });
    check_failed(upload_to(server, dir, UploadCreation::Careful), "not an offset");
  }
  SECTION("negative Upload-Offset") {
    RawHttpServer server([](const std::string&, int) { return created("Upload-Offset: -5\r\n"); });
    check_failed(upload_to(server, dir, UploadCreation::Careful), "not an offset");
  }
  SECTION("an offset beyond what was sent") {
    RawHttpServer server([](const std::string&, int) { return created("Upload-Offset: 5000\r\n"); });
    check_failed(upload_to(server, dir, UploadCreation::Careful), "beyond");
  }
  SECTION("an offset retrieval beyond the file") {
    RawHttpServer server([](const std::string&, int n) -> std::string {
      if (n == 0) return created("");
      if (n == 1) return "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      return "HTTP/1.1 204 No Content\r\nUpload-Offset: 999999999\r\nUpload-Limit: max-size=1000000000\r\n"
             "Connection: close\r\n\r\n";
    });
    check_failed(upload_to(server, dir, UploadCreation::Careful), "claims 999999999 bytes");
  }
  SECTION("an offset retrieval beyond every byte ever sent, though within the file") {
    RawHttpServer server([](const std::string& head, int n) -> std::string {
      if (n == 0) return created("");
      if (head.rfind("PATCH", 0) == 0)
        return "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      return "HTTP/1.1 204 No Content\r\nUpload-Offset: 90000\r\nUpload-Complete: ?0\r\n"
             "Connection: close\r\n\r\n";
    });
    // Appends of 40,000 bytes: only bytes below 40,000 ever left.
    check_failed(upload_to(server, dir, UploadCreation::Careful, 10, 40'000),
                 "no more than 40000 were ever sent");
  }
  SECTION("an append answered with a lower offset than it started at") {
    RawHttpServer server([](const std::string&, int n) -> std::string {
      if (n == 0) return created("");
      if (n == 1) return "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      if (n == 2)
        return "HTTP/1.1 204 No Content\r\nUpload-Offset: 40000\r\nUpload-Limit: max-size=1000000000\r\n"
               "Connection: close\r\n\r\n";
      return "HTTP/1.1 204 No Content\r\nUpload-Offset: 10\r\nUpload-Complete: ?0\r\n"
             "Content-Length: 0\r\nConnection: close\r\n\r\n";
    });
    check_failed(upload_to(server, dir, UploadCreation::Careful), "lower offset");
  }
  SECTION("an incomplete creation answered without a Location") {
    RawHttpServer server([](const std::string&, int) {
      return std::string("HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    check_failed(upload_to(server, dir, UploadCreation::Careful), "no Location");
  }
  SECTION("a 104 without Location, for our version, during an optimistic creation") {
    RawHttpServer server([](const std::string&, int) {
      return std::string("HTTP/1.1 104 Upload Resumption Supported\r\nUpload-Draft-Interop-Version: 10\r\n\r\n"
                         "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    const auto o = upload_to(server, dir, UploadCreation::Optimistic);
    INFO(o.terminal.message);
    // Without a resource nothing can be resumed: the retries start over and end in the 500.
    CHECK(o.terminal.kind == EventKind::Failed);
  }
  SECTION("a 104 announcing a max-size below the file ends the upload there") {
    RawHttpServer server([](const std::string&, int) {
      return std::string("HTTP/1.1 104 Upload Resumption Supported\r\nUpload-Draft-Interop-Version: 10\r\n"
                         "Location: /uploads/r1\r\nUpload-Limit: max-size=50000\r\n\r\n"
                         "HTTP/1.1 201 Created\r\nUpload-Complete: ?1\r\nContent-Length: 0\r\n"
                         "Connection: close\r\n\r\n");
    });
    const auto o = upload_to(server, dir, UploadCreation::Optimistic);
    INFO(o.terminal.message);
    CHECK(o.terminal.kind == EventKind::Failed);
    CHECK(o.terminal.message.find("max-size 50000") != std::string::npos);
    CHECK(o.requests == 1);
  }
  SECTION("a garbage Upload-Limit is ignored, the upload completes") {
    RawHttpServer server([](const std::string&, int n) -> std::string {
      if (n == 0) return created("Upload-Limit: max-size=banana\r\n");
      return "HTTP/1.1 204 No Content\r\nUpload-Complete: ?1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    });
    const auto o = upload_to(server, dir, UploadCreation::Careful);
    INFO(o.terminal.message);
    CHECK(o.terminal.kind == EventKind::Completed);
  }
  SECTION("413 without limits: appends get smaller until one fits") {
    RawHttpServer server([](const std::string& head, int n) -> std::string {
      if (n == 0) return created("");
      if (head.rfind("HEAD", 0) == 0)
        return "HTTP/1.1 204 No Content\r\nUpload-Offset: 0\r\nUpload-Limit: max-size=1000000000\r\n"
               "Connection: close\r\n\r\n";
      // Appends above 64 KiB are too large.
      const auto at = head.find("Content-Length: ");
      const auto length = std::stoull(head.substr(at + 16));
      if (length > 65536) return "HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      const auto offset_at = head.find("Upload-Offset: ");
      const auto offset = std::stoull(head.substr(offset_at + 15));
      return "HTTP/1.1 204 No Content\r\nUpload-Offset: " + std::to_string(offset + length) +
             "\r\nUpload-Complete: " + (offset + length == 100000 ? "?1" : "?0") +
             "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    });
    const auto o = upload_to(server, dir, UploadCreation::Careful);
    INFO(o.terminal.message);
    CHECK(o.terminal.kind == EventKind::Completed);
  }
  SECTION("a file above the cached max-size is refused before any byte is sent") {
    // First upload teaches the origin's limits; the second is refused before sending.
    RawHttpServer server([](const std::string&, int n) -> std::string {
      if (n == 0) return created("Upload-Limit: max-size=200000\r\n");
      return "HTTP/1.1 204 No Content\r\nUpload-Complete: ?1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    });
    const auto first = upload_to(server, dir, UploadCreation::Careful);
    REQUIRE(first.terminal.kind == EventKind::Completed);
    const auto big = dir / "big.bin";
    write_pattern_file(big, 300'000, 9);
    auto engine = Engine::open((dir / "journal").string(), test_engine_config());
    REQUIRE(engine);
    auto id = (*engine)->enqueue(upload_of(big, server.origin() + "/uploads"));
    REQUIRE(id);
    const int before = server.requests();
    auto result = run_until_terminal(**engine, *id, std::chrono::seconds(30));
    REQUIRE(result.terminal);
    CHECK(result.terminal->kind == EventKind::Failed);
    CHECK(result.terminal->message.find("max-size") != std::string::npos);
    CHECK(server.requests() == before);
  }
}

TEST_CASE("an upload resource on another origin gets the spec's headers and credentials only when trusted",
          "[engine][upload][misbehaving]") {
  // "localhost" and "127.0.0.1" are two origins on one listener.
  for (const bool trusted : {false, true}) {
    CAPTURE(trusted);
    TempDir dir("xfer-up-xorigin");
    std::atomic<std::uint16_t> port{0};
    std::mutex mutex;
    std::vector<std::string> heads;
    RawHttpServer server([&](const std::string& head, int n) -> std::string {
      {
        std::lock_guard lock(mutex);
        heads.push_back(ascii_lower(head));
      }
      if (n == 0)
        return "HTTP/1.1 201 Created\r\nLocation: http://localhost:" + std::to_string(port.load()) +
               "/uploads/r1\r\nUpload-Complete: ?0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      return "HTTP/1.1 204 No Content\r\nUpload-Complete: ?1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    });
    port = server.port();
    const auto result = upload_to(server, dir, UploadCreation::Careful, 10, 0,
                                  [&](EngineConfig& config, UploadSpec& spec) {
                                    config.forward_headers_across_origins = trusted;
                                    spec.headers = {{"Authorization", "Bearer s3cret"}, {"X-Team", "blue"}};
                                  });
    INFO(result.terminal.message);
    REQUIRE(result.terminal.kind == EventKind::Completed);
    CHECK(result.terminal.upload_url.rfind("http://localhost:", 0) == 0);
    std::lock_guard lock(mutex);
    REQUIRE(heads.size() >= 2);
    // The creation went to the spec's own origin with everything.
    CHECK(heads[0].find("authorization: bearer s3cret") != std::string::npos);
    CHECK(heads[0].find("x-team: blue") != std::string::npos);
    for (std::size_t i = 1; i < heads.size(); ++i) {
      INFO(heads[i]);
      CHECK((heads[i].find("authorization:") != std::string::npos) == trusted);
      CHECK((heads[i].find("x-team:") != std::string::npos) == trusted);
    }
    bool announced = false;
    for (const auto& e : result.events)
      if (e.message.find("not sent there") != std::string::npos) announced = true;
    CHECK(announced == !trusted);
  }
}

TEST_CASE("OPTIONS discovers Upload-Limit before the creation and the journal keeps it per origin",
          "[engine][upload]") {
  TempDir dir("xfer-up-options");
  const auto source = dir / "src.bin";
  write_pattern_file(source, 100'000, 10);
  std::atomic<int> options{0}, others{0};
  std::atomic<std::uint64_t> max_size{50'000};
  std::atomic<bool> bad_discovery{false};
  RawHttpServer server(
      [&](const std::string& head, int) -> std::string {
        if (head.rfind("OPTIONS ", 0) == 0) {
          ++options;
          // Catch's assertions are not for this thread: the test checks the flag.
          if (head.find("Upload-Draft-Interop-Version: 10") == std::string::npos ||
              head.find("Upload-Complete") != std::string::npos)
            bad_discovery = true;
          return "HTTP/1.1 204 No Content\r\nUpload-Limit: max-size=" + std::to_string(max_size.load()) +
                 "\r\nConnection: close\r\n\r\n";
        }
        ++others;
        if (head.rfind("POST ", 0) == 0)
          return "HTTP/1.1 201 Created\r\nLocation: /uploads/r" + std::to_string(others.load()) +
                 "\r\nUpload-Complete: ?0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        return "HTTP/1.1 204 No Content\r\nUpload-Complete: ?1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      },
      RawHttpServer::Options::ToHandler);
  auto config = test_engine_config();
  config.max_attempts = 3;
  auto engine = Engine::open((dir / "journal").string(), config);
  REQUIRE(engine);
  const auto run = [&] {
    auto spec = upload_of(source, server.origin() + "/uploads");
    spec.creation = UploadCreation::Careful;
    auto id = (*engine)->enqueue(spec);
    REQUIRE(id);
    auto result = run_until_terminal(**engine, *id, std::chrono::seconds(30));
    REQUIRE(result.terminal);
    return *result.terminal;
  };
  // Too large for what the server announced: refused before any byte (no creation at all).
  const auto refused = run();
  INFO(refused.message);
  CHECK(refused.kind == EventKind::Failed);
  CHECK(refused.message.find("max-size 50000") != std::string::npos);
  CHECK(options == 1);
  CHECK(others == 0);
  // Raised: asked again (nothing was kept from a refusal), then uploaded.
  max_size = 1'000'000;
  const auto first = run();
  INFO(first.message);
  CHECK(first.kind == EventKind::Completed);
  CHECK(options == 2);
  // The next upload to the origin uses the journaled limits: no second OPTIONS.
  const auto second = run();
  CHECK(second.kind == EventKind::Completed);
  CHECK(options == 2);
  CHECK_FALSE(bad_discovery);
}

TEST_CASE("a relative Location after a 307 names a resource beside the URL that answered",
          "[engine][upload][misbehaving]") {
  TempDir dir("xfer-up-307");
  std::mutex mutex;
  std::vector<std::string> heads;
  RawHttpServer server([&](const std::string& head, int n) -> std::string {
    {
      std::lock_guard lock(mutex);
      heads.push_back(head.substr(0, head.find("\r\n")));
    }
    if (n == 0)
      return "HTTP/1.1 307 Temporary Redirect\r\nLocation: /v2/uploads\r\nContent-Length: 0\r\n"
             "Connection: close\r\n\r\n";
    if (n == 1)
      return "HTTP/1.1 201 Created\r\nLocation: r1\r\nUpload-Complete: ?0\r\nContent-Length: 0\r\n"
             "Connection: close\r\n\r\n";
    return "HTTP/1.1 204 No Content\r\nUpload-Complete: ?1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  });
  const auto o = upload_to(server, dir, UploadCreation::Careful);
  INFO(o.terminal.message);
  REQUIRE(o.terminal.kind == EventKind::Completed);
  CHECK(o.terminal.upload_url == server.origin() + "/v2/r1");
  std::lock_guard lock(mutex);
  REQUIRE(heads.size() == 3);
  CHECK(heads[1].rfind("POST /v2/uploads ", 0) == 0);
  CHECK(heads[2].rfind("PATCH /v2/r1 ", 0) == 0);
}
