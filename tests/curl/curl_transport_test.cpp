// CurlTransport downloads against a real nginx: HTTP/1.1, HTTP/2 over TLS and h2c, multiplexing
// many exchanges over one connection, pause/resume flow control, cancellation. (Redirects are
// followed above the transport: redirect_transport_test.cpp.)
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <set>
#include <sstream>

#include "tests/curl/nginx_fixture.h"
#include "tests/curl/recording_sink.h"

namespace xfer::test {
namespace {

using namespace std::chrono_literals;
using protocols::BodyAction;
using protocols::HttpRequest;

struct Route {
  const char* name;
  HttpVersion version;
  const char* protocol;
};

std::string origin_for(const NginxFixture& f, const Route& route) {
  if (std::string(route.name) == "h1") return f.nginx->http_origin();
  if (std::string(route.name) == "h2c") return f.nginx->h2c_origin();
  return f.nginx->https_origin();
}

Route any_route() {
  return GENERATE(Route{"h1", HttpVersion::Http1_1, "http/1.1"},
                  Route{"h1-tls", HttpVersion::Http1_1, "http/1.1"},
                  Route{"h2-tls", HttpVersion::Any, "h2"},
                  Route{"h2c", HttpVersion::Http2, "h2"});
}

// The first whitespace-separated field of each access-log line naming `path`: nginx's
// connection serial number.
std::set<std::string> connections_serving(const NginxProcess& nginx, const std::string& path,
                                          std::size_t expected_log_lines) {
  std::set<std::string> connections;
  for (const std::string& line : nginx.wait_for_access_log(expected_log_lines)) {
    if (line.find(" " + path + " ") == std::string::npos) continue;
    std::istringstream in(line);
    std::string connection;
    in >> connection;
    connections.insert(connection);
  }
  return connections;
}

std::chrono::microseconds process_cpu_time() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return std::chrono::seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         std::chrono::microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

}  // namespace

TEST_CASE("curl transport downloads a file byte-exact", "[curl]") {
  NginxFixture f;
  const Route route = any_route();
  INFO("route " << route.name);
  auto transport = f.transport();
  RecordingSink sink;
  HttpRequest request;
  request.url = origin_for(f, route) + "/medium.bin";
  request.version = route.version;
  auto stream = transport->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  REQUIRE(sink.outcome->has_value());
  CHECK(sink.violations.empty());
  REQUIRE(sink.head);
  CHECK(sink.head->status == 200);
  REQUIRE(sink.head->find("content-length") != nullptr);
  CHECK(*sink.head->find("content-length") == std::to_string(kMediumSize));
  CHECK(sink.body.size() == kMediumSize);
  CHECK(sink.body_sha256() == f.sha("medium.bin"));
  const std::string protocol = (*stream)->negotiated_protocol();
  if (protocol == "h2c-unshared")  // libcurl < 7.89: h2c on a connection of its own
    CHECK(std::string(route.name) == "h2c");
  else
    CHECK(protocol == route.protocol);
}

TEST_CASE("curl transport multiplexes 20 concurrent HTTP/2 downloads over one connection",
          "[curl]") {
  NginxFixture f;
  auto transport = f.transport();
  std::vector<std::unique_ptr<RecordingSink>> sinks;
  std::vector<std::unique_ptr<protocols::HttpStream>> streams;
  for (int i = 0; i < kSmallFiles; ++i) {
    sinks.push_back(std::make_unique<RecordingSink>());
    HttpRequest request;
    request.url = f.nginx->https_origin() + "/small" + std::to_string(i) + ".bin";
    auto stream = transport->start(request, *sinks.back());
    REQUIRE(stream.has_value());
    streams.push_back(std::move(*stream));
  }
  REQUIRE(run_until(f.io, [&] {
    return std::all_of(sinks.begin(), sinks.end(), [](const auto& s) { return s->done(); });
  }));
  std::set<std::string> connections;
  for (int i = 0; i < kSmallFiles; ++i) {
    INFO("file " << i);
    const RecordingSink& sink = *sinks[static_cast<std::size_t>(i)];
    REQUIRE(sink.outcome->has_value());
    CHECK(sink.violations.empty());
    CHECK(sink.head->status == 200);
    CHECK(sink.body_sha256() == f.sha("small" + std::to_string(i) + ".bin"));
    CHECK(streams[static_cast<std::size_t>(i)]->negotiated_protocol() == "h2");
    for (const auto& c : connections_serving(*f.nginx, "/small" + std::to_string(i) + ".bin", kSmallFiles)) {
      connections.insert(c);
    }
  }
  CHECK(connections.size() == 1);
  CHECK(transport->connections_opened() == 1);
}

TEST_CASE("curl transport reuses the connection for sequential HTTP/1.1 exchanges", "[curl]") {
  NginxFixture f;
  auto transport = f.transport();
  for (int i = 0; i < 3; ++i) {
    RecordingSink sink;
    HttpRequest request;
    request.url = f.nginx->http_origin() + "/small" + std::to_string(i) + ".bin";
    auto stream = transport->start(request, sink);
    REQUIRE(stream.has_value());
    REQUIRE(run_until(f.io, [&] { return sink.done(); }));
    REQUIRE(sink.outcome->has_value());
  }
  CHECK(transport->connections_opened() == 1);
}

TEST_CASE("curl transport pauses and resumes a download from on_body", "[curl]") {
  NginxFixture f;
  const Route route = any_route();
  INFO("route " << route.name);
  auto transport = f.transport();
  RecordingSink sink;
  std::unique_ptr<protocols::HttpStream> stream;
  bool paused = false;
  int pauses = 0;
  std::size_t since_pause = 0;
  boost::asio::steady_timer resume_timer(f.io);
  sink.body_hook = [&](std::span<const std::uint8_t> data) {
    if (paused) sink.violations.push_back("on_body while paused");
    since_pause += data.size();
    if (since_pause < 256 * 1024) return BodyAction::Continue;
    since_pause = 0;
    paused = true;
    ++pauses;
    resume_timer.expires_after(5ms);
    resume_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      paused = false;
      stream->resume_receive();
    });
    return BodyAction::Pause;
  };
  HttpRequest request;
  request.url = origin_for(f, route) + "/large.bin";
  request.version = route.version;
  auto started = transport->start(request, sink);
  REQUIRE(started.has_value());
  stream = std::move(*started);
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  REQUIRE(sink.outcome->has_value());
  CHECK(sink.violations.empty());
  CHECK(pauses >= 20);
  CHECK(sink.body.size() == kLargeSize);
  CHECK(sink.body_sha256() == f.sha("large.bin"));
}

TEST_CASE("curl transport holds a paused download without delivering bytes", "[curl]") {
  NginxFixture f;
  const Route route = any_route();
  INFO("route " << route.name);
  auto transport = f.transport();
  RecordingSink sink;
  bool paused = false;
  sink.body_hook = [&](std::span<const std::uint8_t>) {
    if (paused) sink.violations.push_back("on_body while paused");
    if (sink.body.size() >= 100 * 1024 && sink.body.size() < kLargeSize) {
      paused = true;
      return BodyAction::Pause;
    }
    return BodyAction::Continue;
  };
  HttpRequest request;
  request.url = origin_for(f, route) + "/large.bin";
  request.version = route.version;
  auto stream = transport->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return paused; }));
  const std::size_t held_at = sink.body.size();
  const auto cpu_before = process_cpu_time();
  run_for(f.io, 300ms);
  const auto cpu_spent = process_cpu_time() - cpu_before;
  CHECK(sink.body.size() == held_at);
  // A paused transfer costs no CPU: nothing spins on a readable socket nobody reads.
  CHECK(cpu_spent < 60ms);
  CHECK_FALSE(sink.done());
  paused = false;
  sink.body_hook = nullptr;
  (*stream)->resume_receive();
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  REQUIRE(sink.outcome->has_value());
  CHECK(sink.violations.empty());
  CHECK(sink.body_sha256() == f.sha("large.bin"));
}

TEST_CASE("a paused HTTP/2 stream does not hold up another stream on its connection",
          "[curl]") {
  NginxFixture f;
  auto transport = f.transport();
  RecordingSink paused_sink;
  paused_sink.body_hook = [](std::span<const std::uint8_t>) { return BodyAction::Pause; };
  RecordingSink other;
  HttpRequest request;
  request.url = f.nginx->https_origin() + "/large.bin";
  auto paused_stream = transport->start(request, paused_sink);
  REQUIRE(paused_stream.has_value());
  REQUIRE(run_until(f.io, [&] { return !paused_sink.body.empty(); }));
  request.url = f.nginx->https_origin() + "/medium.bin";
  auto other_stream = transport->start(request, other);
  REQUIRE(other_stream.has_value());
  REQUIRE(run_until(f.io, [&] { return other.done(); }, 10s));
  REQUIRE(other.outcome->has_value());
  CHECK(other.body_sha256() == f.sha("medium.bin"));
  CHECK((*other_stream)->negotiated_protocol() == "h2");
  CHECK_FALSE(paused_sink.done());
  CHECK(transport->connections_opened() == 0);  // `other` reused the paused stream's connection
}

TEST_CASE("a sink may start, pause and drop exchanges from inside its callbacks", "[curl]") {
  NginxFixture f;
  auto transport = f.transport();
  RecordingSink first;
  RecordingSink second;
  RecordingSink third;
  std::unique_ptr<protocols::HttpStream> second_stream;
  std::unique_ptr<protocols::HttpStream> third_stream;
  bool cancelled = false;
  HttpRequest request;
  first.body_hook = [&](std::span<const std::uint8_t>) {
    if (!second_stream) {
      HttpRequest next;
      next.url = f.nginx->https_origin() + "/medium.bin";
      auto started = transport->start(next, second);
      if (started) second_stream = std::move(*started);
      next.url = f.nginx->https_origin() + "/large.bin";
      started = transport->start(next, third);
      if (started) third_stream = std::move(*started);
    } else if (third_stream) {
      // Cancel another exchange from inside this one's callback, at the next body callback
      // after starting it: waiting for the third's own body made the cancel racy (the first
      // exchange could finish before the third delivered anything, and then nothing cancelled).
      third_stream.reset();
      cancelled = true;
    }
    return BodyAction::Continue;
  };
  request.url = f.nginx->https_origin() + "/large.bin";
  auto stream = transport->start(request, first);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return first.done() && second.done(); }));
  REQUIRE(first.outcome->has_value());
  REQUIRE(second_stream);
  REQUIRE(second.outcome->has_value());
  CHECK(first.body_sha256() == f.sha("large.bin"));
  CHECK(second.body_sha256() == f.sha("medium.bin"));
  CHECK(first.violations.empty());
  CHECK(second.violations.empty());
  REQUIRE(cancelled);
  CHECK_FALSE(third.done());
}

TEST_CASE("curl transport answers HEAD with a head and no body", "[curl]") {
  NginxFixture f;
  auto transport = f.transport();
  RecordingSink sink;
  HttpRequest request;
  request.method = "HEAD";
  request.url = f.nginx->https_origin() + "/medium.bin";
  auto stream = transport->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  REQUIRE(sink.outcome->has_value());
  REQUIRE(sink.head);
  CHECK(sink.head->status == 200);
  CHECK(*sink.head->find("content-length") == std::to_string(kMediumSize));
  CHECK(sink.body.empty());
}

TEST_CASE("curl transport reports HTTP statuses to the sink, not as errors", "[curl]") {
  NginxFixture f;
  auto transport = f.transport();
  RecordingSink sink;
  HttpRequest request;
  request.url = f.nginx->https_origin() + "/missing.bin";
  auto stream = transport->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  REQUIRE(sink.outcome->has_value());
  REQUIRE(sink.head);
  CHECK(sink.head->status == 404);
}

TEST_CASE("curl transport sends a Range request and delivers the 206", "[curl]") {
  NginxFixture f;
  auto transport = f.transport();
  RecordingSink sink;
  HttpRequest request;
  request.url = f.nginx->https_origin() + "/medium.bin";
  request.headers = {{"Range", "bytes=1000-"}};
  auto stream = transport->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  REQUIRE(sink.outcome->has_value());
  CHECK(sink.head->status == 206);
  REQUIRE(sink.head->find("content-range") != nullptr);
  CHECK(*sink.head->find("content-range") ==
        "bytes 1000-" + std::to_string(kMediumSize - 1) + "/" + std::to_string(kMediumSize));
  CHECK(sink.body.size() == kMediumSize - 1000);
}

TEST_CASE("curl transport refuses a certificate it cannot verify", "[curl]") {
  NginxFixture f;
  auto transport = f.transport({}, /*trust_nginx=*/false);
  RecordingSink sink;
  HttpRequest request;
  request.url = f.nginx->https_origin() + "/medium.bin";
  auto stream = transport->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  REQUIRE_FALSE(sink.outcome->has_value());
  INFO(sink.outcome->error().describe());
  CHECK(sink.outcome->error().category() == ErrorCategory::Tls);
  CHECK_FALSE(sink.outcome->error().retryable());
  CHECK_FALSE(sink.head);
  CHECK(f.nginx->wait_for_access_log(1, 300ms).empty());

  SECTION("unless told to be insecure") {
    TransportSettings config;
    config.insecure = true;
    auto insecure = f.transport(config, /*trust_nginx=*/false);
    RecordingSink ok;
    auto again = insecure->start(request, ok);
    REQUIRE(again.has_value());
    REQUIRE(run_until(f.io, [&] { return ok.done(); }));
    REQUIRE(ok.outcome->has_value());
    CHECK(ok.body_sha256() == f.sha("medium.bin"));
  }
}

TEST_CASE("curl transport reports a refused connection as a retryable network error",
          "[curl]") {
  NginxFixture f;
  const std::uint16_t port = f.nginx->plain_port(1);
  f.nginx.reset();  // nothing listens there any more
  auto transport = f.transport({}, false);
  RecordingSink sink;
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/medium.bin";
  auto stream = transport->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  REQUIRE_FALSE(sink.outcome->has_value());
  INFO(sink.outcome->error().describe());
  CHECK(sink.outcome->error().category() == ErrorCategory::Network);
  CHECK(sink.outcome->error().retryable());
}

TEST_CASE("curl transport rejects requests it cannot express", "[curl]") {
  NginxFixture f;
  auto transport = f.transport();
  RecordingSink sink;
  HttpRequest request;
  request.url = "ftp://127.0.0.1/x";
  auto ftp = transport->start(request, sink);
  REQUIRE_FALSE(ftp.has_value());
  CHECK(ftp.error().category() == ErrorCategory::InvalidArgument);
  request.url = f.nginx->https_origin() + "/medium.bin";
  request.version = HttpVersion::Http3;
  auto h3 = transport->start(request, sink);
  REQUIRE_FALSE(h3.has_value());
  CHECK(h3.error().category() == ErrorCategory::InvalidArgument);
}

TEST_CASE("curl transport caps the response header bytes", "[curl]") {
  std::string headers;
  const std::string value(1000, 'v');
  for (int i = 0; i < 300; ++i) headers += "      add_header X-Pad-" + std::to_string(i) + " " + value + ";\n";
  NginxFixture f("    location = /fat-headers {\n" + headers + "      return 200 \"ok\";\n    }\n");
  TransportSettings config;
  config.max_header_bytes = 64 * 1024;
  auto transport = f.transport(config);
  const Route route = any_route();
  INFO("route " << route.name);
  RecordingSink sink;
  HttpRequest request;
  request.url = origin_for(f, route) + "/fat-headers";
  request.version = route.version;
  auto stream = transport->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  REQUIRE_FALSE(sink.outcome->has_value());
  INFO(sink.outcome->error().describe());
  CHECK_FALSE(sink.head);
  // Over HTTP/2, libcurl 7.88 buffers a header block itself and refuses one above 128 KiB
  // before our cap sees it; that is classified the same way.
  CHECK(sink.outcome->error().category() == ErrorCategory::Protocol);
  CHECK_FALSE(sink.outcome->error().retryable());
  CHECK(sink.outcome->error().message().find("response header too large") != std::string::npos);
}

TEST_CASE("destroying a curl stream mid-body cancels it without further callbacks", "[curl]") {
  NginxFixture f;
  const Route route = any_route();
  INFO("route " << route.name);
  auto transport = f.transport();
  RecordingSink sink;
  HttpRequest request;
  request.url = origin_for(f, route) + "/large.bin";
  request.version = route.version;
  auto stream = transport->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return !sink.body.empty(); }));
  stream->reset();
  const std::size_t calls = sink.body_calls;
  run_for(f.io, 200ms);
  CHECK(sink.body_calls == calls);
  CHECK_FALSE(sink.done());

  // The transport still works afterwards (a fresh exchange on the same multi handle).
  RecordingSink next;
  request.url = origin_for(f, route) + "/medium.bin";
  auto again = transport->start(request, next);
  REQUIRE(again.has_value());
  REQUIRE(run_until(f.io, [&] { return next.done(); }));
  INFO((next.outcome->has_value() ? std::string("ok") : next.outcome->error().describe()));
  if (!next.outcome->has_value() && route.version == HttpVersion::Http2) {
    // libcurl 7.88 over h2c (prior knowledge): after an aborted stream whose data it had
    // already buffered, the next exchange on that connection fails with CURLE_HTTP2 and the
    // connection is closed. It is classified retryable, and the retry must succeed.
    CHECK(next.outcome->error().retryable());
    next = RecordingSink();
    again = transport->start(request, next);
    REQUIRE(again.has_value());
    REQUIRE(run_until(f.io, [&] { return next.done(); }));
  }
  REQUIRE(next.outcome->has_value());
  CHECK(next.body_sha256() == f.sha("medium.bin"));
}

TEST_CASE("a curl stream may outlive its transport", "[curl]") {
  NginxFixture f;
  auto transport = f.transport();
  RecordingSink sink;
  HttpRequest request;
  request.url = f.nginx->https_origin() + "/medium.bin";
  auto stream = transport->start(request, sink);
  REQUIRE(stream.has_value());
  transport.reset();
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  REQUIRE(sink.outcome->has_value());
  CHECK(sink.body_sha256() == f.sha("medium.bin"));
}

}  // namespace xfer::test
