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

TEST_CASE("preferring HTTP/3: no fallback once the response began, and none for bodies or http",
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

  HttpRequest upload;
  upload.url = "https://c.example/up";
  upload.method = "PATCH";
  upload.body_length = 10;
  upload.version = HttpVersion::Http3Preferred;
  Sink body_sink;
  auto b = r.router.start(upload, body_sink);
  REQUIRE(b);
  CHECK(r.tcp->streams.size() == 1);
  auto plain = r.start(HttpVersion::Http3Preferred, "http://d.example/f");
  CHECK(r.tcp->streams.size() == 2);
  CHECK(r.quic->streams.size() == 1);
}

}  // namespace xfer::protocols
