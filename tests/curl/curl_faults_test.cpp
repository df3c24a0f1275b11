// CurlTransport under server faults injected by the real xfer-testserver (Xfer-Fault header):
// the low-speed watchdog catches a stall, resets surface as retryable network errors; and a
// stream the sink keeps paused is not mistaken for a stall.
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>

#include <fstream>

#include "protocols/curl/curl_transport.h"
#include "tests/curl/nginx_fixture.h"
#include "tests/curl/recording_sink.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"
#include "tests/support/testserver_process.h"

namespace xfer::test {
namespace {

using namespace std::chrono_literals;

struct ServerFixture {
  ServerFixture() {
    std::filesystem::create_directories(dir / "root");
    write_pattern_file(dir / "root" / "f.bin", kMediumSize, 21);
    TestServerOptions options;
    options.root = dir / "root";
    options.data = dir / "data";
    options.log_file = dir / "server.log";
    server = TestServerProcess::start(options);
    TransportSettings config;
    config.ca_file = server->cert().string();
    auto created = protocols::curl::CurlTransport::create(io, config);
    REQUIRE(created.has_value());
    transport = std::move(*created);
  }
  TempDir dir{"xfer-curl-faults"};
  std::unique_ptr<TestServerProcess> server;
  boost::asio::io_context io;
  std::unique_ptr<protocols::curl::CurlTransport> transport;
};

struct Route {
  const char* name;
  HttpVersion version;
  bool tls;
};

std::string sha256_file_prefix(const std::filesystem::path& path, std::size_t size) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes(size);
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  return sha256_hex(bytes.data(), static_cast<std::size_t>(in.gcount()));
}

}  // namespace

TEST_CASE("the low-speed watchdog ends a stalled download with a retryable error",
          "[curl][faults]") {
  ServerFixture f;
  const Route route = GENERATE(Route{"h1", HttpVersion::Http1_1, false},
                               Route{"h2-tls", HttpVersion::Any, true});
  INFO("route " << route.name);
  RecordingSink sink;
  protocols::HttpRequest request;
  request.url = (route.tls ? f.server->https_origin() : f.server->http_origin()) + "/files/f.bin";
  request.version = route.version;
  request.headers = {{"Xfer-Fault", "stall=100000:20000"}};
  request.low_speed_bytes_per_sec = 10'000;
  request.low_speed_seconds = 1;
  const auto start = std::chrono::steady_clock::now();
  auto stream = f.transport->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return sink.done(); }, 15s));
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(sink.outcome->has_value());
  INFO(sink.outcome->error().describe());
  CHECK(sink.outcome->error().category() == ErrorCategory::Network);
  CHECK(sink.outcome->error().retryable());
  CHECK(took < 10s);  // well before the 20 s stall ends
  CHECK(sink.body.size() >= 100'000);
  CHECK(sink.body.size() < kMediumSize);
}

TEST_CASE("a server reset mid-body is a retryable network error", "[curl][faults]") {
  ServerFixture f;
  const Route route = GENERATE(Route{"h1", HttpVersion::Http1_1, false},
                               Route{"h1-tls", HttpVersion::Http1_1, true},
                               Route{"h2-tls", HttpVersion::Any, true});
  INFO("route " << route.name);
  RecordingSink sink;
  protocols::HttpRequest request;
  request.url = (route.tls ? f.server->https_origin() : f.server->http_origin()) + "/files/f.bin";
  request.version = route.version;
  request.headers = {{"Xfer-Fault", "reset-after=300000"}};
  auto stream = f.transport->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  REQUIRE_FALSE(sink.outcome->has_value());
  INFO(sink.outcome->error().describe());
  CHECK(sink.outcome->error().category() == ErrorCategory::Network);
  CHECK(sink.outcome->error().retryable());
  CHECK(sink.body.size() <= 300'000);
  // What did arrive is the file's prefix.
  const auto expected = sha256_file_prefix(f.dir / "root" / "f.bin", sink.body.size());
  CHECK(sink.body_sha256() == expected);
}

TEST_CASE("destroying a stream that waits on a stalled server winds it down at once",
          "[curl][faults]") {
  ServerFixture f;
  const Route route = GENERATE(Route{"h1", HttpVersion::Http1_1, false},
                               Route{"h2-tls", HttpVersion::Any, true});
  INFO("route " << route.name);
  RecordingSink sink;
  protocols::HttpRequest request;
  request.url = (route.tls ? f.server->https_origin() : f.server->http_origin()) + "/files/f.bin";
  request.version = route.version;
  request.headers = {{"Xfer-Fault", "stall=100000:20000"}};
  auto stream = f.transport->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return sink.body.size() >= 100'000; }));
  run_for(f.io, 200ms);  // the server is stalled now: nothing arrives
  stream->reset();
  REQUIRE(run_until(f.io, [&] { return f.transport->stats().cancelled_pending == 0; }, 3s));
  CHECK_FALSE(sink.done());
}

TEST_CASE("a download the sink keeps paused is not taken for a stall", "[curl][faults]") {
  NginxFixture f;
  auto transport = f.transport();
  RecordingSink sink;
  std::unique_ptr<protocols::HttpStream> stream;
  boost::asio::steady_timer timer(f.io);
  bool paused_once = false;
  sink.body_hook = [&](std::span<const std::uint8_t>) {
    if (paused_once) return protocols::BodyAction::Continue;
    paused_once = true;
    timer.expires_after(2500ms);
    timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) stream->resume_receive();
    });
    return protocols::BodyAction::Pause;
  };
  protocols::HttpRequest request;
  request.url = f.nginx->https_origin() + "/large.bin";
  request.low_speed_bytes_per_sec = 1000;
  request.low_speed_seconds = 1;
  auto started = transport->start(request, sink);
  REQUIRE(started.has_value());
  stream = std::move(*started);
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  INFO((sink.outcome->has_value() ? std::string("ok") : sink.outcome->error().describe()));
  REQUIRE(sink.outcome->has_value());
  CHECK(sink.body_sha256() == f.sha("large.bin"));
}

}  // namespace xfer::test
