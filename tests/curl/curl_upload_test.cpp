// CurlTransport uploads against a real nginx (PUT into its dav location): the body is pulled
// through ExchangeSink::read_body, including a read that asks to pause and a later resume_send.
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <iterator>

#include "tests/curl/nginx_fixture.h"
#include "tests/curl/recording_sink.h"

namespace xfer::test {
namespace {

using namespace std::chrono_literals;
using protocols::BodyRead;
using protocols::HttpRequest;

std::vector<std::uint8_t> read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("curl transport uploads a body pulled through read_body", "[curl][upload]") {
  NginxFixture f;
  struct Case {
    const char* name;
    HttpVersion version;
    bool tls;
  };
  const Case c = GENERATE(Case{"h1", HttpVersion::Http1_1, false},
                          Case{"h1-tls", HttpVersion::Http1_1, true},
                          Case{"h2-tls", HttpVersion::Any, true});
  const bool pause_midway = GENERATE(false, true);
  INFO("route " << c.name << " pause " << pause_midway);
  auto transport = f.transport();
  RecordingSink sink;
  sink.upload = read_all(f.root / "large.bin");
  std::unique_ptr<protocols::HttpStream> stream;
  boost::asio::steady_timer timer(f.io);
  bool paused_once = false;
  bool paused = false;
  if (pause_midway) {
    sink.read_hook = [&](std::span<std::uint8_t> buffer) -> BodyRead {
      if (paused) sink.violations.push_back("read_body while send is paused");
      if (!paused_once && sink.upload_offset >= sink.upload.size() / 2) {
        paused_once = true;
        paused = true;
        timer.expires_after(50ms);
        timer.async_wait([&](const boost::system::error_code& ec) {
          if (ec) return;
          paused = false;
          stream->resume_send();
        });
        return BodyRead{0, true};
      }
      const std::size_t n = std::min(buffer.size(), sink.upload.size() - sink.upload_offset);
      std::memcpy(buffer.data(), sink.upload.data() + sink.upload_offset, n);
      sink.upload_offset += n;
      return BodyRead{n, false};
    };
  }
  HttpRequest request;
  request.method = "PUT";
  request.url = (c.tls ? f.nginx->https_origin() : f.nginx->http_origin()) + "/upload/" + c.name +
                ".bin";
  request.version = c.version;
  request.body_length = sink.upload.size();
  request.headers = {{"Content-Type", "application/octet-stream"}};
  auto started = transport->start(request, sink);
  REQUIRE(started.has_value());
  stream = std::move(*started);
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  INFO((sink.outcome->has_value() ? std::string("ok") : sink.outcome->error().describe()));
  REQUIRE(sink.outcome->has_value());
  CHECK(sink.violations.empty());
  REQUIRE(sink.head);
  CHECK((sink.head->status == 201 || sink.head->status == 204));
  CHECK(paused_once == pause_midway);
  CHECK(sha256_file(f.root / "upload" / (std::string(c.name) + ".bin")) == f.sha("large.bin"));
  // No "Expect: 100-continue" round trip: nginx saw exactly one request.
  CHECK(f.nginx->wait_for_access_log(2, 300ms).size() == 1);
}

TEST_CASE("curl transport fails an upload whose body ends early", "[curl][upload]") {
  NginxFixture f;
  auto transport = f.transport();
  RecordingSink sink;
  sink.upload.assign(1000, 0x5a);
  HttpRequest request;
  request.method = "PUT";
  request.url = f.nginx->http_origin() + "/upload/short.bin";
  request.version = HttpVersion::Http1_1;
  request.body_length = 5000;  // more than read_body will give
  auto stream = transport->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(f.io, [&] { return sink.done(); }));
  REQUIRE_FALSE(sink.outcome->has_value());
  INFO(sink.outcome->error().describe());
  CHECK(sink.outcome->error().category() == ErrorCategory::LocalIo);
  CHECK(sink.outcome->error().message().find("1000 of 5000") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(f.root / "upload" / "short.bin"));
}

}  // namespace xfer::test
