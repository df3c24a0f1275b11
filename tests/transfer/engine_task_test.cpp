// The download state machine against a scripted in-memory transport (no sockets): which
// requests go out on resume (Range + If-Range), what a changed or unvalidated representation
// does (restart from zero, said in an event), and what a lying server gets (a protocol error,
// nothing at the destination).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>

#include <boost/asio/post.hpp>

#include <xfer/engine.h>

#include "protocols/transport.h"
#include "tests/support/temp_dir.h"
#include "transfer/engine/engine_thread.h"

using namespace xfer;
using namespace xfer::protocols;
namespace fs = std::filesystem;

namespace {

struct Reply {
  int status = 200;
  HeaderList fields;
  std::string body;
  std::optional<std::size_t> fail_after;  // network error after this many body bytes
};

// Scripted transport: each start() records the request and plays the next Reply on the loop.
class ScriptedTransport final : public Transport {
 public:
  using Script = std::function<Reply(const HttpRequest&, int)>;
  ScriptedTransport(boost::asio::io_context& io, Script script, std::vector<HttpRequest>& log,
                    std::mutex& mu)
      : io_(io), script_(std::move(script)), log_(log), mu_(mu) {}

  class Stream final : public HttpStream {
   public:
    void pause_receive() override {}
    void resume_receive() override {}
    void resume_send() override {}
    std::string negotiated_protocol() const override { return "http/1.1"; }
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    ~Stream() override { *alive = false; }
  };

  Result<std::unique_ptr<HttpStream>> start(const HttpRequest& request, ExchangeSink& sink) override {
    int n;
    {
      std::lock_guard lock(mu_);
      log_.push_back(request);
      n = static_cast<int>(log_.size()) - 1;
    }
    Reply reply = script_(request, n);
    auto stream = std::make_unique<Stream>();
    auto alive = stream->alive;
    boost::asio::post(io_, [&sink, reply, alive] {
      if (!*alive) return;
      ResponseHeaders head;
      head.status = reply.status;
      head.fields = reply.fields;
      sink.on_response_head(head);
      std::size_t limit = reply.fail_after.value_or(reply.body.size());
      std::size_t sent = 0;
      while (*alive && sent < limit) {
        const std::size_t n = std::min<std::size_t>(4096, limit - sent);
        sink.on_body(std::span(reinterpret_cast<const std::uint8_t*>(reply.body.data()) + sent, n));
        sent += n;
      }
      if (!*alive) return;
      if (reply.fail_after)
        sink.on_complete(fail(ErrorCategory::Network, "scripted reset", true));
      else
        sink.on_complete({});
    });
    return std::unique_ptr<HttpStream>(std::move(stream));
  }
  TransportCapabilities capabilities() const override { return {}; }

 private:
  boost::asio::io_context& io_;
  Script script_;
  std::vector<HttpRequest>& log_;
  std::mutex& mu_;
};

std::string header(const HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

std::string payload(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) & 0xff);
  return s;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Harness {
  test::TempDir dir{"xfer-task"};
  std::vector<HttpRequest> requests;
  std::mutex mu;
  std::unique_ptr<Engine> engine;

  explicit Harness(ScriptedTransport::Script script) {
    detail::EngineDeps deps;
    deps.transport = [this, script](boost::asio::io_context& io, const EngineConfig&)
        -> Result<std::unique_ptr<Transport>> {
      return std::unique_ptr<Transport>(new ScriptedTransport(io, script, requests, mu));
    };
    EngineConfig config;
    config.backoff_base = std::chrono::milliseconds(1);
    config.backoff_cap = std::chrono::milliseconds(5);
    config.max_attempts = 5;
    auto e = detail::open_engine((dir / "journal").string(), config, deps);
    REQUIRE(e);
    engine = std::move(*e);
  }

  // Runs one download to its terminal event; returns it and every event seen.
  std::pair<Event, std::vector<Event>> run() {
    DownloadSpec spec;
    spec.url = "http://example.test/file";
    spec.destination = (dir / "file").string();
    auto id = engine->enqueue(spec);
    REQUIRE(id);
    std::vector<Event> seen;
    for (int i = 0; i < 200; ++i) {
      auto e = engine->next_event(std::chrono::milliseconds(50));
      if (!e || e->id != *id) continue;
      seen.push_back(*e);
      if (e->terminal()) {
        REQUIRE(engine->ack(*e));
        return {*e, seen};
      }
    }
    FAIL("no terminal event");
    return {};
  }
  std::size_t request_count() {
    std::lock_guard lock(mu);
    return requests.size();
  }
};

bool saw(const std::vector<Event>& events, EventKind kind) {
  for (const auto& e : events)
    if (e.kind == kind) return true;
  return false;
}

}  // namespace

TEST_CASE("task: a reset is resumed with Range and If-Range carrying the ETag", "[task]") {
  const std::string body = payload(100'000);
  Harness h([&](const HttpRequest& r, int n) {
    Reply reply;
    if (n == 0) {
      reply.fields = {{"etag", "\"v1\""}, {"content-length", "100000"}};
      reply.body = body;
      reply.fail_after = 30'000;
      return reply;
    }
    reply.status = 206;
    const std::string range = header(r, "Range");
    const auto from = std::stoull(range.substr(6));
    reply.fields = {{"etag", "\"v1\""},
                    {"content-range", "bytes " + std::to_string(from) + "-99999/100000"},
                    {"content-length", std::to_string(100000 - from)}};
    reply.body = body.substr(from);
    return reply;
  });
  auto [terminal, events] = h.run();
  INFO(terminal.message);
  REQUIRE(terminal.kind == EventKind::Completed);
  CHECK(read_file(h.dir / "file") == body);
  REQUIRE(h.request_count() == 2);
  CHECK(header(h.requests[0], "Range").empty());
  CHECK(header(h.requests[1], "Range") == "bytes=30000-");
  CHECK(header(h.requests[1], "If-Range") == "\"v1\"");
  CHECK_FALSE(saw(events, EventKind::Restarted));
}

TEST_CASE("task: without a strong validator a resume restarts from zero", "[task]") {
  const std::string body = payload(50'000);
  Harness h([&](const HttpRequest&, int n) {
    Reply reply;
    reply.fields = {{"content-length", "50000"}};
    reply.body = body;
    if (n == 0) reply.fail_after = 20'000;
    return reply;
  });
  auto [terminal, events] = h.run();
  REQUIRE(terminal.kind == EventKind::Completed);
  CHECK(read_file(h.dir / "file") == body);
  REQUIRE(h.request_count() >= 2);
  CHECK(header(h.requests.back(), "Range").empty());
}

TEST_CASE("task: a 200 answering a ranged request restarts from zero in place", "[task]") {
  const std::string v1 = payload(40'000);
  const std::string v2 = payload(60'000).substr(5);
  Harness h([&](const HttpRequest&, int n) {
    Reply reply;
    if (n == 0) {
      reply.fields = {{"etag", "\"v1\""}, {"content-length", "40000"}};
      reply.body = v1;
      reply.fail_after = 10'000;
    } else {  // the representation changed: If-Range fails, the server sends the new one whole
      reply.fields = {{"etag", "\"v2\""}, {"content-length", std::to_string(v2.size())}};
      reply.body = v2;
    }
    return reply;
  });
  auto [terminal, events] = h.run();
  REQUIRE(terminal.kind == EventKind::Completed);
  CHECK(saw(events, EventKind::Restarted));
  CHECK(read_file(h.dir / "file") == v2);
}

TEST_CASE("task: a 206 for another range is a protocol error, nothing written", "[task]") {
  const std::string body = payload(10'000);
  Harness h([&](const HttpRequest&, int n) {
    Reply reply;
    if (n == 0) {
      reply.fields = {{"etag", "\"v1\""}, {"content-length", "10000"}};
      reply.body = body;
      reply.fail_after = 4'000;
    } else {
      reply.status = 206;
      reply.fields = {{"etag", "\"v1\""}, {"content-range", "bytes 0-5999/10000"},
                      {"content-length", "6000"}};
      reply.body = body.substr(0, 6000);
    }
    return reply;
  });
  auto [terminal, events] = h.run();
  INFO(terminal.message);
  CHECK(terminal.kind == EventKind::Failed);
  CHECK(terminal.message.find("protocol") != std::string::npos);
  CHECK_FALSE(fs::exists(h.dir / "file"));
  CHECK_FALSE(fs::exists(h.dir / "file.part"));
}

TEST_CASE("task: a wrong Repr-Digest fails the transfer, nothing at the destination", "[task]") {
  const std::string body = payload(5'000);
  Harness h([&](const HttpRequest&, int) {
    Reply reply;
    reply.fields = {{"content-length", "5000"},
                    {"repr-digest",
                     "sha-256=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:"}};
    reply.body = body;
    return reply;
  });
  auto [terminal, events] = h.run();
  INFO(terminal.message);
  CHECK(terminal.kind == EventKind::Failed);
  CHECK(terminal.message.find("integrity") != std::string::npos);
  CHECK_FALSE(fs::exists(h.dir / "file"));
}

TEST_CASE("task: retries stop after max_attempts without progress", "[task]") {
  Harness h([&](const HttpRequest&, int) {
    Reply reply;
    reply.status = 503;
    return reply;
  });
  auto [terminal, events] = h.run();
  CHECK(terminal.kind == EventKind::Failed);
  CHECK(terminal.message.find("503") != std::string::npos);
  CHECK(h.request_count() == 5);
}
