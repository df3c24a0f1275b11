// RedirectingTransport over the libcurl transport against a real nginx, on every route (h1,
// h1+TLS, h2+TLS, h2c): caller headers reach the original origin and not another (another
// host on the same port, or another port), unless the request says so; relative Locations,
// 303 method change, 307 body replay, loops, refused schemes; pause/resume and destruction
// through the decorator.
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>

#include "protocols/redirect/redirecting_transport.h"
#include "tests/curl/nginx_fixture.h"
#include "tests/curl/recording_sink.h"

namespace xfer::test {
namespace {

using namespace std::chrono_literals;
using protocols::HttpRequest;

// /echo answers with the request fields that matter here. The redirects go to another host
// name for the same listener ("localhost" is another origin than "127.0.0.1"), to another
// port (h2c goes to the TLS port, which speaks h2 too), or back.
const char* const kLocations = R"(
    location = /echo {
      return 200 "key=[$http_x_api_key] auth=[$http_authorization] cookie=[$http_cookie] method=[$request_method] range=[$http_range]\n";
    }
    location = /to-other-host { return 302 $scheme://localhost:$server_port/echo; }
    location = /to-other-host-and-back { return 302 $scheme://localhost:$server_port/back; }
    location = /back { return 301 $scheme://127.0.0.1:$server_port/echo; }
    location = /to-other-port {
      if ($server_port = @H2C_PORT@) { return 302 https://127.0.0.1:@TLS_PORT@/echo; }
      return 302 http://127.0.0.1:@PLAIN_PORT_1@/echo;
    }
    location = /to-same-absolute { return 308 $scheme://127.0.0.1:$server_port/echo; }
    location = /dir/relative { absolute_redirect off; return 302 ../echo; }
    location = /see-other { return 303 /echo; }
    location = /keep-method { return 307 /echo; }
    location = /loop { return 302 /loop; }
    location = /to-ftp { return 302 ftp://127.0.0.1/x; }
    location = /to-large { return 302 /large.bin; }
)";

struct Route {
  const char* name;
  HttpVersion version;
};

Route any_route() {
  return GENERATE(Route{"h1", HttpVersion::Http1_1}, Route{"h1-tls", HttpVersion::Http1_1},
                  Route{"h2-tls", HttpVersion::Any}, Route{"h2c", HttpVersion::Http2});
}

struct RedirectFixture {
  explicit RedirectFixture(protocols::RedirectConfig config = {})
      : redirecting(f.io, std::shared_ptr<protocols::Transport>(f.transport()), config) {}

  std::string origin(const Route& route) const {
    const std::string name = route.name;
    if (name == "h1") return f.nginx->http_origin(0);
    if (name == "h2c") return f.nginx->h2c_origin();
    return f.nginx->https_origin();
  }

  HttpRequest request(const Route& route, const std::string& path) const {
    HttpRequest r;
    r.url = origin(route) + path;
    r.version = route.version;
    r.headers = {{"X-Api-Key", "k-123"},
                 {"Authorization", "Bearer secret-token"},
                 {"Cookie", "session=s1"},
                 {"Range", "bytes=0-"}};
    return r;
  }

  // Runs `r` to the end; the body as text.
  std::string run(const HttpRequest& r, RecordingSink& sink) {
    auto stream = redirecting.start(r, sink);
    REQUIRE(stream.has_value());
    REQUIRE(run_until(f.io, [&] { return sink.done(); }));
    CHECK(sink.violations.empty());
    CHECK(sink.complete_count == 1);
    return std::string(sink.body.begin(), sink.body.end());
  }

  NginxFixture f{kLocations};
  protocols::RedirectingTransport redirecting;
};

constexpr const char* kAllSent =
    "key=[k-123] auth=[Bearer secret-token] cookie=[session=s1] method=[GET] range=[bytes=0-]";
constexpr const char* kNoneSent = "key=[] auth=[] cookie=[] method=[GET] range=[bytes=0-]";

// A sink that can send its upload again, counting the rewinds.
class ReplayingSink : public RecordingSink {
 public:
  bool can_replay_body() const override { return true; }
  bool rewind_body() override {
    ++rewinds;
    upload_offset = 0;
    return true;
  }
  int rewinds = 0;
};

}  // namespace

TEST_CASE("redirects: caller headers reach the original origin only", "[curl][redirect]") {
  RedirectFixture x;
  const Route route = any_route();
  INFO("route " << route.name);
  std::size_t requests = 2;

  SECTION("same origin, absolute Location") {
    RecordingSink sink;
    CHECK(x.run(x.request(route, "/to-same-absolute"), sink).starts_with(kAllSent));
    CHECK(sink.head->status == 200);
    CHECK(sink.head_count == 1);
  }
  SECTION("another host on the same port") {
    RecordingSink sink;
    CHECK(x.run(x.request(route, "/to-other-host"), sink).starts_with(kNoneSent));
  }
  SECTION("another port") {
    RecordingSink sink;
    CHECK(x.run(x.request(route, "/to-other-port"), sink).starts_with(kNoneSent));
  }
  SECTION("away and back: they return at the original origin") {
    RecordingSink sink;
    CHECK(x.run(x.request(route, "/to-other-host-and-back"), sink).starts_with(kAllSent));
    requests = 3;
  }
  SECTION("unless the request forwards them") {
    RecordingSink sink;
    HttpRequest r = x.request(route, "/to-other-host");
    r.forward_headers_across_origins = true;
    CHECK(x.run(r, sink).starts_with(kAllSent));
  }
  // The first origin got them on the first hop (nginx logs Authorization and Cookie).
  const std::vector<std::string> log = x.f.nginx->wait_for_access_log(requests);
  REQUIRE(log.size() == requests);
  INFO(log.front());
  CHECK(log.front().find("\"GET /to-") != std::string::npos);
  CHECK(log.front().find("Bearer secret-token") != std::string::npos);
  CHECK(log.front().find("session=s1") != std::string::npos);
}

TEST_CASE("redirects: a relative Location resolves against the request URL", "[curl][redirect]") {
  RedirectFixture x;
  const Route route = any_route();
  INFO("route " << route.name);
  RecordingSink sink;
  CHECK(x.run(x.request(route, "/dir/relative"), sink).starts_with(kAllSent));
  bool relative_seen = false;
  for (const std::string& line : x.f.nginx->wait_for_access_log(2)) {
    if (line.find("GET /echo ") != std::string::npos) relative_seen = true;
  }
  CHECK(relative_seen);
}

TEST_CASE("redirects: 303 turns a POST into a GET without the body", "[curl][redirect]") {
  RedirectFixture x;
  const Route route = any_route();
  INFO("route " << route.name);
  RecordingSink sink;
  sink.upload.assign(1000, 'u');
  HttpRequest r = x.request(route, "/see-other");
  r.method = "POST";
  r.body_length = sink.upload.size();
  r.headers.emplace_back("Content-Type", "application/octet-stream");
  CHECK(x.run(r, sink).starts_with(
      "key=[k-123] auth=[Bearer secret-token] cookie=[session=s1] method=[GET]"));
  CHECK(sink.head->status == 200);
}

TEST_CASE("redirects: 307 keeps method and body only when the sink can replay it",
          "[curl][redirect]") {
  RedirectFixture x;
  const Route route = any_route();
  INFO("route " << route.name);
  HttpRequest r = x.request(route, "/keep-method");
  r.method = "POST";
  SECTION("replayable: followed, the body sent again") {
    ReplayingSink sink;
    sink.upload.assign(1000, 'u');
    r.body_length = sink.upload.size();
    CHECK(x.run(r, sink).find("method=[POST]") != std::string::npos);
    CHECK(sink.rewinds == 1);
    CHECK(sink.upload_offset == sink.upload.size());
  }
  SECTION("not replayable: the 307 is the answer") {
    RecordingSink sink;
    sink.upload.assign(1000, 'u');
    r.body_length = sink.upload.size();
    x.run(r, sink);
    REQUIRE(sink.outcome->has_value());
    CHECK(sink.head->status == 307);
    REQUIRE(sink.head->find("location") != nullptr);
  }
}

TEST_CASE("redirects: a loop ends with a Protocol error after max_redirects", "[curl][redirect]") {
  protocols::RedirectConfig config;
  config.max_redirects = 5;
  RedirectFixture x(config);
  const Route route = any_route();
  INFO("route " << route.name);
  RecordingSink sink;
  x.run(x.request(route, "/loop"), sink);
  REQUIRE_FALSE(sink.outcome->has_value());
  const Error& error = sink.outcome->error();
  INFO(error.describe());
  CHECK(error.category() == ErrorCategory::Protocol);
  CHECK_FALSE(error.retryable());
  CHECK(error.message().find("too many redirects") != std::string::npos);
  CHECK_FALSE(sink.head);
  CHECK(x.f.nginx->wait_for_access_log(7, 300ms).size() == 6);  // the first + 5 redirects
}

TEST_CASE("redirects: a Location outside http(s) is refused", "[curl][redirect]") {
  RedirectFixture x;
  RecordingSink sink;
  x.run(x.request(Route{"h1", HttpVersion::Http1_1}, "/to-ftp"), sink);
  REQUIRE_FALSE(sink.outcome->has_value());
  INFO(sink.outcome->error().describe());
  CHECK(sink.outcome->error().category() == ErrorCategory::Protocol);
  CHECK_FALSE(sink.outcome->error().retryable());
  CHECK_FALSE(sink.head);
}

TEST_CASE("redirects: the libcurl transport alone delivers the 3xx", "[curl][redirect]") {
  RedirectFixture x;
  const Route route = any_route();
  INFO("route " << route.name);
  RecordingSink sink;
  auto stream = x.redirecting.inner().start(x.request(route, "/to-other-host"), sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(x.f.io, [&] { return sink.done(); }));
  REQUIRE(sink.outcome->has_value());
  CHECK(sink.head->status == 302);
  CHECK(x.f.nginx->wait_for_access_log(2, 300ms).size() == 1);
}

TEST_CASE("redirects: pause and resume reach the final hop", "[curl][redirect]") {
  RedirectFixture x;
  const Route route = any_route();
  INFO("route " << route.name);
  RecordingSink sink;
  std::unique_ptr<protocols::HttpStream> stream;
  bool paused = false;
  int pauses = 0;
  std::size_t since_pause = 0;
  boost::asio::steady_timer resume_timer(x.f.io);
  sink.body_hook = [&](std::span<const std::uint8_t> data) {
    if (paused) sink.violations.push_back("on_body while paused");
    since_pause += data.size();
    if (since_pause < 1024 * 1024) return protocols::BodyAction::Continue;
    since_pause = 0;
    paused = true;
    ++pauses;
    resume_timer.expires_after(5ms);
    resume_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      paused = false;
      stream->resume_receive();
    });
    return protocols::BodyAction::Pause;
  };
  HttpRequest r = x.request(route, "/to-large");
  r.headers.clear();
  auto started = x.redirecting.start(r, sink);
  REQUIRE(started.has_value());
  stream = std::move(*started);
  REQUIRE(run_until(x.f.io, [&] { return sink.done(); }));
  REQUIRE(sink.outcome->has_value());
  CHECK(sink.violations.empty());
  CHECK(pauses >= 5);
  CHECK(sink.body_sha256() == x.f.sha("large.bin"));
  CHECK_FALSE(stream->negotiated_protocol().empty());
}

TEST_CASE("redirects: destroying the stream mid-body cancels the hop", "[curl][redirect]") {
  RedirectFixture x;
  const Route route = any_route();
  INFO("route " << route.name);
  RecordingSink sink;
  HttpRequest r = x.request(route, "/to-large");
  r.headers.clear();
  auto stream = x.redirecting.start(r, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(x.f.io, [&] { return !sink.body.empty(); }));
  stream->reset();
  const std::size_t calls = sink.body_calls;
  run_for(x.f.io, 200ms);
  CHECK(sink.body_calls == calls);
  CHECK_FALSE(sink.done());
}

}  // namespace xfer::test
