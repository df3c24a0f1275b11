// RedirectingTransport over a scripted inner transport: what the caller's sink hears across
// hops, when hops start and end, and that no inner stream is destroyed inside one of its own
// callbacks, whatever the caller does from its callbacks.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <functional>

#include "protocols/redirect/redirecting_transport.h"
#include "tests/protocols/fake_transport.h"

namespace xfer::protocols {
namespace {

struct Fixture {
  explicit Fixture(RedirectConfig config = {})
      : fake(std::make_shared<FakeTransport>()), redirecting(io, fake, config) {}

  std::unique_ptr<HttpStream> start(HttpRequest r = {}) {
    if (r.url.empty()) r.url = "https://a.example/start";
    auto s = redirecting.start(r, sink);
    REQUIRE(s.has_value());
    return std::move(*s);
  }

  // Runs a callback of inner stream `i` the way a transport would: flagged as "inside".
  void from(std::size_t i, const std::function<void(ExchangeSink&)>& call) {
    REQUIRE(i < fake->streams.size());
    REQUIRE_FALSE(*fake->gone[i]);
    FakeStream* s = fake->streams[i];
    const auto gone = s->gone;
    s->in_callback = true;
    call(s->sink);
    if (!*gone) s->in_callback = false;
  }
  void body(std::size_t i, std::string_view bytes) {
    from(i, [&](ExchangeSink& k) {
      k.on_body(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
    });
  }
  void redirect(std::size_t i, int status, const std::string& location) {
    from(i, [&](ExchangeSink& k) { k.on_response_head(head(status, location)); });
    from(i, [](ExchangeSink& k) { k.on_complete({}); });
    poll();
  }
  // Runs what was posted to the loop.
  void poll() {
    io.restart();
    io.poll();
  }
  bool gone(std::size_t i) const { return *fake->gone.at(i); }

  boost::asio::io_context io;
  std::shared_ptr<FakeTransport> fake;
  RedirectingTransport redirecting;
  Sink sink;
};

}  // namespace

TEST_CASE("redirecting: a final response passes straight through", "[redirect]") {
  Fixture f;
  auto stream = f.start();
  f.from(0, [](ExchangeSink& k) { k.on_interim(head(104)); });
  f.from(0, [](ExchangeSink& k) { k.on_response_head(head(200)); });
  f.body(0, "abc");
  f.from(0, [](ExchangeSink& k) { k.on_complete({}); });
  CHECK(f.sink.interims == std::vector<int>{104});
  CHECK(f.sink.head->status == 200);
  CHECK(f.sink.body == "abc");
  REQUIRE(f.sink.outcome.has_value());
  CHECK(f.sink.outcome->has_value());
  CHECK(f.sink.violations.empty());
  CHECK(f.fake->log->requests.size() == 1);
  CHECK(f.fake->log->requests[0].url == "https://a.example/start");
  CHECK(stream->negotiated_protocol() == "fake/1");
  CHECK(f.redirecting.capabilities().max_streams_per_connection == 7);
}

TEST_CASE("redirecting: a redirect hop is swallowed - the next starts at the loop boundary",
          "[redirect]") {
  Fixture f;
  auto stream = f.start();
  f.from(0, [](ExchangeSink& k) { k.on_interim(head(103)); });
  f.from(0, [](ExchangeSink& k) { k.on_response_head(head(302, "/next?x")); });
  f.body(0, "moved");
  f.from(0, [](ExchangeSink& k) { k.on_complete({}); });
  CHECK(f.fake->log->requests.size() == 1);  // not from inside the hop's on_complete
  CHECK_FALSE(f.gone(0));
  f.poll();
  CHECK(f.gone(0));
  REQUIRE(f.fake->log->requests.size() == 2);
  CHECK(f.fake->log->requests[1].url == "https://a.example/next?x");
  CHECK_FALSE(f.sink.head);
  CHECK(f.sink.body.empty());
  CHECK(f.sink.interims == std::vector<int>{103});  // interims come as they arrive
  f.from(1, [](ExchangeSink& k) { k.on_response_head(head(200)); });
  f.body(1, "final");
  f.from(1, [](ExchangeSink& k) { k.on_complete({}); });
  CHECK(f.sink.head->status == 200);
  CHECK(f.sink.body == "final");
  CHECK(f.sink.outcome->has_value());
  CHECK(f.sink.violations.empty());
  CHECK(f.fake->log->violations.empty());
}

TEST_CASE("redirecting: a failed redirect hop still goes on to the Location", "[redirect]") {
  Fixture f;
  auto stream = f.start();
  f.from(0, [](ExchangeSink& k) { k.on_response_head(head(301, "https://b.example/")); });
  f.from(0, [](ExchangeSink& k) {
    k.on_complete(fail(ErrorCategory::Network, "reset in the redirect body", true));
  });
  f.poll();
  REQUIRE(f.fake->log->requests.size() == 2);
  CHECK(f.fake->log->requests[1].url == "https://b.example/");
  CHECK_FALSE(f.sink.outcome.has_value());
}

TEST_CASE("redirecting: a redirect body past the cap abandons the hop", "[redirect]") {
  RedirectConfig config;
  config.max_redirect_body_bytes = 10;
  Fixture f(config);
  auto stream = f.start();
  f.from(0, [](ExchangeSink& k) { k.on_response_head(head(302, "/n")); });
  f.body(0, "0123456789");
  f.poll();
  CHECK(f.fake->log->requests.size() == 1);
  f.body(0, "x");
  f.body(0, "y");  // still swallowed until the posted step runs
  f.poll();
  CHECK(f.gone(0));
  CHECK(f.fake->log->requests.size() == 2);
  CHECK(f.sink.body.empty());
}

TEST_CASE("redirecting: a request body is replayed on 307, the hop abandoned at its head",
          "[redirect]") {
  Fixture f;
  f.sink.replayable = true;
  HttpRequest r;
  r.url = "https://a.example/up";
  r.method = "PUT";
  r.body_length = 100;
  auto stream = f.start(r);
  f.from(0, [](ExchangeSink& k) {
    std::uint8_t b[4];
    k.read_body(b);
  });
  CHECK(f.sink.reads == 1);
  f.from(0, [](ExchangeSink& k) { k.on_response_head(head(307, "/elsewhere")); });
  f.poll();
  CHECK(f.gone(0));
  REQUIRE(f.fake->log->requests.size() == 2);
  CHECK(f.fake->log->requests[1].method == "PUT");
  CHECK(f.fake->log->requests[1].body_length == 100);
  CHECK(f.sink.rewinds == 1);
  stream->resume_send();
  CHECK(f.fake->streams[1]->send_resumes == 1);

  SECTION("a failed rewind fails the exchange as LocalIo") {
    f.sink.rewind_ok = false;
    f.from(1, [](ExchangeSink& k) { k.on_response_head(head(308, "/again")); });
    f.poll();
    REQUIRE(f.sink.outcome.has_value());
    REQUIRE_FALSE(f.sink.outcome->has_value());
    CHECK(f.sink.outcome->error().category() == ErrorCategory::LocalIo);
    CHECK(f.fake->log->requests.size() == 2);
  }
}

TEST_CASE("redirecting: a pause carries over to the next hop", "[redirect]") {
  Fixture f;
  auto stream = f.start();
  stream->pause_receive();
  CHECK(f.fake->streams[0]->paused);
  f.redirect(0, 302, "/n");
  CHECK(f.fake->streams[1]->paused);
  stream->resume_receive();
  CHECK_FALSE(f.fake->streams[1]->paused);
  f.sink.body_hook = [] { return BodyAction::Pause; };
  f.from(1, [](ExchangeSink& k) { k.on_response_head(head(200)); });
  f.body(1, "a");
  // The inner pauses itself on Pause; a later resume reaches it.
  f.fake->streams[1]->paused = true;
  stream->resume_receive();
  CHECK_FALSE(f.fake->streams[1]->paused);
}

TEST_CASE("redirecting: refusals and start failures complete the exchange once", "[redirect]") {
  Fixture f;
  SECTION("a Location to another scheme") {
    auto stream = f.start();
    f.redirect(0, 302, "ftp://a.example/f");
    REQUIRE(f.sink.outcome.has_value());
    REQUIRE_FALSE(f.sink.outcome->has_value());
    CHECK(f.sink.outcome->error().category() == ErrorCategory::Protocol);
    CHECK(f.fake->log->requests.size() == 1);
  }
  SECTION("the next hop cannot start") {
    auto stream = f.start();
    f.fake->refuse_next = true;
    f.redirect(0, 302, "/n");
    REQUIRE(f.sink.outcome.has_value());
    REQUIRE_FALSE(f.sink.outcome->has_value());
    CHECK(f.sink.outcome->error().message() == "fake refuses");
  }
  SECTION("the first hop cannot start: start() says so") {
    f.fake->refuse_next = true;
    HttpRequest r;
    r.url = "https://a.example/";
    CHECK_FALSE(f.redirecting.start(r, f.sink).has_value());
    CHECK_FALSE(f.sink.outcome.has_value());
  }
  SECTION("a URL the strict parser refuses never reaches the inner transport") {
    HttpRequest r;
    r.url = "https://a.example\\@b.example/";
    auto s = f.redirecting.start(r, f.sink);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().category() == ErrorCategory::InvalidArgument);
    CHECK(f.fake->log->requests.empty());
  }
  CHECK(f.sink.violations.empty());
}

TEST_CASE("redirecting: the caller may drop the stream from any callback", "[redirect]") {
  Fixture f;
  std::unique_ptr<HttpStream> stream = f.start();
  f.redirect(0, 302, "/n");
  const char* where = GENERATE("head", "body", "complete");
  INFO(where);
  const std::string w = where;
  if (w == "head") f.sink.head_hook = [&] { stream.reset(); };
  if (w == "body")
    f.sink.body_hook = [&] {
      stream.reset();
      return BodyAction::Continue;
    };
  if (w == "complete") f.sink.complete_hook = [&] { stream.reset(); };
  f.from(1, [](ExchangeSink& k) { k.on_response_head(head(200)); });
  if (stream) f.body(1, "abc");
  if (stream) f.from(1, [](ExchangeSink& k) { k.on_complete({}); });
  CHECK_FALSE(stream);
  f.poll();
  CHECK(f.gone(1));
  CHECK(f.fake->log->violations.empty());
  CHECK(f.sink.violations.empty());
}

TEST_CASE("redirecting: dropping the stream while a hop is due cancels it", "[redirect]") {
  Fixture f;
  std::unique_ptr<HttpStream> stream = f.start();
  f.from(0, [](ExchangeSink& k) { k.on_response_head(head(302, "/n")); });
  f.from(0, [](ExchangeSink& k) { k.on_complete({}); });
  stream.reset();
  CHECK(f.gone(0));
  f.poll();
  CHECK(f.fake->log->requests.size() == 1);
  CHECK_FALSE(f.sink.outcome.has_value());
  CHECK(f.fake->log->violations.empty());
}

TEST_CASE("redirecting: headers go only to the original origin, hop by hop", "[redirect]") {
  Fixture f;
  HttpRequest r;
  r.url = "https://a.example/start";
  r.headers = {{"X-Api-Key", "k"}, {"Range", "bytes=5-"}};
  auto stream = f.start(r);
  f.redirect(0, 302, "https://cdn.example/f");
  f.redirect(1, 302, "https://a.example/g");
  const auto& requests = f.fake->log->requests;
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].headers.size() == 2);
  CHECK(requests[1].headers == HeaderList{{"Range", "bytes=5-"}});
  CHECK(requests[2].headers == r.headers);
}

}  // namespace xfer::protocols
