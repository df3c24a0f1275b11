// RoutingTransport and FallbackStream over scripted QUIC and TCP transports: which transport an
// exchange goes to, when a preferring exchange falls back to TCP (a QUIC failure before the
// response, no handshake after the delay) and when it must not (a response already began, a
// body), that the caller's sink hears one exchange only, and that a broken origin goes straight
// to TCP afterwards.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "protocols/router/routing_transport.h"
#include "tests/protocols/fake_transport.h"

namespace xfer::protocols {
namespace {

struct Routes {
  boost::asio::io_context io;
  std::shared_ptr<FakeTransport> tcp = std::make_shared<FakeTransport>();
  std::shared_ptr<FakeTransport> quic = std::make_shared<FakeTransport>();
  RoutingTransport router{io, tcp, quic, std::chrono::milliseconds(50)};
  Sink sink;

  Routes() {
    tcp->protocol = "h2";
    quic->protocol = "h3";
  }
  std::unique_ptr<HttpStream> start(HttpVersion version, std::string url = "https://a.example/f") {
    HttpRequest r;
    r.url = std::move(url);
    r.version = version;
    auto s = router.start(r, sink);
    REQUIRE(s.has_value());
    return std::move(*s);
  }
  void run_for(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }
};

void answer(FakeStream& stream, const std::string& body) {
  stream.in_callback = true;
  stream.sink.on_response_head(head(200));
  stream.sink.on_body(std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
  stream.sink.on_complete({});
  stream.in_callback = false;
}

}  // namespace

TEST_CASE("routing: HTTP/3-only to QUIC, the rest to TCP", "[router]") {
  Routes r;
  auto a = r.start(HttpVersion::Http3);
  auto b = r.start(HttpVersion::Any);
  auto c = r.start(HttpVersion::Http2);
  CHECK(r.quic->streams.size() == 1);
  CHECK(r.tcp->streams.size() == 2);
  // Without a QUIC transport an HTTP/3-only request is refused, a preferring one goes over TCP.
  boost::asio::io_context io;
  auto tcp = std::make_shared<FakeTransport>();
  RoutingTransport tcp_only(io, tcp, nullptr);
  Sink sink;
  HttpRequest only;
  only.url = "https://a.example/f";
  only.version = HttpVersion::Http3;
  auto refused = tcp_only.start(only, sink);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("HTTP/3") != std::string::npos);
  only.version = HttpVersion::Http3Preferred;
  CHECK(tcp_only.start(only, sink));
  CHECK(tcp->streams.size() == 1);
}

TEST_CASE("preferring HTTP/3: a QUIC failure before the response moves the exchange to TCP",
          "[router]") {
  Routes r;
  auto s = r.start(HttpVersion::Http3Preferred);
  REQUIRE(r.quic->streams.size() == 1);
  // The QUIC exchange fails inside its own callback (handshake refused): the switch waits for
  // the loop, and the caller hears nothing of the failure.
  FakeStream& q = *r.quic->streams[0];
  q.in_callback = true;
  q.sink.on_complete(fail(ErrorCategory::Network, "UDP refused", true));
  q.in_callback = false;
  CHECK_FALSE(r.sink.outcome);
  r.run_for(std::chrono::milliseconds(20));
  CHECK(*r.quic->gone[0]);
  REQUIRE(r.tcp->streams.size() == 1);
  CHECK(r.tcp->log->requests.back().version == HttpVersion::Any);
  answer(*r.tcp->streams[0], "hello");
  REQUIRE(r.sink.outcome);
  CHECK(r.sink.outcome->has_value());
  CHECK(r.sink.body == "hello");
  CHECK(s->negotiated_protocol() == "h2");
  CHECK(r.sink.violations.empty());
  CHECK(r.quic->log->violations.empty());
  // The origin is remembered: the next preferring exchange goes straight to TCP; another origin
  // still tries QUIC.
  Sink second;
  HttpRequest again;
  again.url = "https://a.example/g";
  again.version = HttpVersion::Http3Preferred;
  auto t = r.router.start(again, second);
  REQUIRE(t);
  CHECK(r.quic->streams.size() == 1);
  CHECK(r.tcp->streams.size() == 2);
  again.url = "https://b.example/g";
  auto u = r.router.start(again, second);
  REQUIRE(u);
  CHECK(r.quic->streams.size() == 2);
}

TEST_CASE("preferring HTTP/3: no handshake within the delay moves to TCP, a ready one stays",
          "[router]") {
  SECTION("silent") {
    Routes r;
    r.quic->streams_ready = false;
    auto s = r.start(HttpVersion::Http3Preferred);
    r.run_for(std::chrono::milliseconds(200));
    CHECK(*r.quic->gone[0]);
    REQUIRE(r.tcp->streams.size() == 1);
  }
  SECTION("handshake done, response slow") {
    Routes r;
    auto s = r.start(HttpVersion::Http3Preferred);
    r.run_for(std::chrono::milliseconds(200));
    CHECK_FALSE(*r.quic->gone[0]);
    CHECK(r.tcp->streams.empty());
    answer(*r.quic->streams[0], "over h3");
    REQUIRE(r.sink.outcome);
    CHECK(r.sink.body == "over h3");
    CHECK(s->negotiated_protocol() == "h3");
  }
}

TEST_CASE("preferring HTTP/3: no fallback once the response began, and none for http",
          "[router]") {
  Routes r;
  auto s = r.start(HttpVersion::Http3Preferred);
  FakeStream& q = *r.quic->streams[0];
  q.in_callback = true;
  q.sink.on_response_head(head(200));
  q.sink.on_complete(fail(ErrorCategory::Network, "reset mid-body", true));
  q.in_callback = false;
  r.run_for(std::chrono::milliseconds(100));
  REQUIRE(r.sink.outcome);
  CHECK_FALSE(r.sink.outcome->has_value());  // the caller's retry decides
  CHECK(r.tcp->streams.empty());

  auto plain = r.start(HttpVersion::Http3Preferred, "http://d.example/f");
  CHECK(r.tcp->streams.size() == 1);
  CHECK(r.quic->streams.size() == 1);
}

TEST_CASE("preferring HTTP/3 with a body: it falls back only before a body byte was read",
          "[router]") {
  Routes r;
  HttpRequest upload;
  upload.url = "https://c.example/up";
  upload.method = "PATCH";
  upload.body_length = 10;
  upload.version = HttpVersion::Http3Preferred;

  // The QUIC exchange fails before it asked for the body: the same request goes over TCP.
  Sink early;
  auto a = r.router.start(upload, early);
  REQUIRE(a);
  REQUIRE(r.quic->streams.size() == 1);
  FakeStream& qa = *r.quic->streams[0];
  qa.in_callback = true;
  qa.sink.on_complete(fail(ErrorCategory::Network, "handshake failed", true));
  qa.in_callback = false;
  r.run_for(std::chrono::milliseconds(100));
  REQUIRE(r.tcp->streams.size() == 1);
  CHECK(r.tcp->log->requests.back().body_length == 10u);
  CHECK_FALSE(early.outcome);

  // Once QUIC took body bytes, a failure is the caller's: nothing is sent twice.
  Routes fresh;
  Sink late;
  auto b = fresh.router.start(upload, late);
  REQUIRE(b);
  REQUIRE(fresh.quic->streams.size() == 1);
  FakeStream& qb = *fresh.quic->streams[0];
  std::uint8_t buffer[4];
  CHECK(qb.sink.read_body(buffer).bytes == 1);
  qb.in_callback = true;
  qb.sink.on_complete(fail(ErrorCategory::Network, "connection lost", true));
  qb.in_callback = false;
  fresh.run_for(std::chrono::milliseconds(100));
  REQUIRE(late.outcome);
  CHECK_FALSE(late.outcome->has_value());
  CHECK(fresh.tcp->streams.empty());
  CHECK(late.reads == 1);
}

}  // namespace xfer::protocols

namespace xfer::protocols {

TEST_CASE("routing by remembered alternative services", "[router][alt-svc]") {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  Routes r;
  // An unasked exchange to an origin with a live h3 alternative goes over QUIC, at its port.
  r.router.remember_alternatives("https://a.example:443", {{"h3", "", 8443, now_ms + 60'000}});
  auto a = r.start(HttpVersion::Any);
  REQUIRE(r.quic->streams.size() == 1);
  CHECK(r.quic->log->requests.back().quic_port == 8443);
  CHECK(r.quic->log->requests.back().version == HttpVersion::Http3);
  // ...with TCP as the fallback when QUIC fails before the response.
  FakeStream& q = *r.quic->streams[0];
  q.in_callback = true;
  q.sink.on_complete(fail(ErrorCategory::Network, "no handshake", true));
  q.in_callback = false;
  r.run_for(std::chrono::milliseconds(100));
  CHECK(r.tcp->streams.size() == 1);

  // Explicit TCP versions, cleartext, other hosts, expired and forgotten ones stay on TCP.
  Routes s;
  s.router.remember_alternatives("https://a.example:443", {{"h3", "", 8443, now_ms + 60'000}});
  auto h2 = s.start(HttpVersion::Http2);
  auto plain = s.start(HttpVersion::Any, "http://a.example/f");
  s.router.remember_alternatives("https://b.example:443", {{"h3", "elsewhere.example", 443, now_ms + 60'000}});
  auto other = s.start(HttpVersion::Any, "https://b.example/f");
  s.router.remember_alternatives("https://c.example:443", {{"h3", "", 443, now_ms - 1}});
  auto expired = s.start(HttpVersion::Any, "https://c.example/f");
  s.router.remember_alternatives("https://d.example:443", {{"h2", "", 443, now_ms + 60'000}});
  auto not_h3 = s.start(HttpVersion::Any, "https://d.example/f");
  CHECK(s.quic->streams.empty());
  CHECK(s.tcp->streams.size() == 5);
  s.router.remember_alternatives("https://a.example:443", {});
  auto forgotten = s.start(HttpVersion::Any);
  CHECK(s.quic->streams.empty());

  // An HTTP/3-only exchange uses the alternative's port too.
  s.router.remember_alternatives("https://e.example:443", {{"h3", "E.example", 9443, now_ms + 60'000}});
  auto only = s.start(HttpVersion::Http3, "https://e.example/f");
  REQUIRE(s.quic->streams.size() == 1);
  CHECK(s.quic->log->requests.back().quic_port == 9443);
}

}  // namespace xfer::protocols

namespace xfer::protocols {

TEST_CASE("an origin reached through a proxy is not sent around it by Alt-Svc", "[router][alt-svc]") {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  ::setenv("https_proxy", "http://proxy.example:3128", 1);
  ::setenv("no_proxy", "localhost, .internal.example", 1);
  Routes r;
  for (const char* origin : {"https://a.example:443", "https://x.internal.example:443"})
    r.router.remember_alternatives(origin, {{"h3", "", 443, now_ms + 60'000}});
  auto proxied = r.start(HttpVersion::Any, "https://a.example/f");
  CHECK(r.quic->streams.empty());
  CHECK(r.tcp->streams.size() == 1);
  auto exempt = r.start(HttpVersion::Any, "https://x.internal.example/f");
  CHECK(r.quic->streams.size() == 1);
  // Asking for HTTP/3 explicitly is the user's choice, proxy or not.
  auto asked = r.start(HttpVersion::Http3, "https://a.example/f");
  CHECK(r.quic->streams.size() == 2);
  ::unsetenv("https_proxy");
  ::unsetenv("no_proxy");
}

}  // namespace xfer::protocols
