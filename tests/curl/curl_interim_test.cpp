// 1xx interim responses through CurlTransport, against the real xfer-testserver: a resumable
// upload creation gets a 104 (Upload Resumption Supported) with the upload's Location before
// the final response, and the sink hears it through on_interim, in order, exactly once.
#include <catch2/catch.hpp>

#include "tests/curl/recording_sink.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"
#include "tests/support/testserver_process.h"

#include "protocols/curl/curl_transport.h"

namespace xfer::test {

TEST_CASE("curl transport delivers a 104 interim response before the final head",
          "[curl][interim]") {
  struct Case {
    const char* name;
    HttpVersion version;
    bool tls;
  };
  const Case c = GENERATE(Case{"h1", HttpVersion::Http1_1, false},
                          Case{"h2-tls", HttpVersion::Any, true},
                          Case{"h1-tls", HttpVersion::Http1_1, true});
  INFO("route " << c.name);
  TempDir dir("xfer-curl-interim");
  TestServerOptions options;
  options.root = dir / "root";
  options.data = dir / "data";
  options.log_file = dir / "server.log";
  auto server = TestServerProcess::start(options);

  boost::asio::io_context io;
  TransportSettings config;
  config.ca_file = server->cert().string();
  auto transport = protocols::curl::CurlTransport::create(io, config);
  REQUIRE(transport.has_value());

  RecordingSink sink;
  sink.upload.resize(256 * 1024 + 3);
  for (std::size_t i = 0; i < sink.upload.size(); ++i) {
    sink.upload[i] = static_cast<std::uint8_t>(i * 7 + 1);
  }
  protocols::HttpRequest request;
  request.method = "POST";
  request.url = (c.tls ? server->https_origin() : server->http_origin()) + "/uploads";
  request.version = c.version;
  request.body_length = sink.upload.size();
  request.headers = {{"Upload-Draft-Interop-Version", "6"},
                     {"Upload-Complete", "?1"},
                     {"Content-Type", "application/octet-stream"}};
  auto stream = (*transport)->start(request, sink);
  REQUIRE(stream.has_value());
  REQUIRE(run_until(io, [&] { return sink.done(); }));
  INFO((sink.outcome->has_value() ? std::string("ok") : sink.outcome->error().describe()));
  REQUIRE(sink.outcome->has_value());
  CHECK(sink.violations.empty());
  REQUIRE(sink.interims.size() >= 1);
  CHECK(sink.interims.front().status == 104);
  REQUIRE(sink.interims.front().find("location") != nullptr);
  CHECK(sink.interims.front().find("location")->find("/uploads/") != std::string::npos);
  REQUIRE(sink.head);
  CHECK(sink.head->status >= 200);
  CHECK(sink.head->status < 300);
  CHECK(sink.head_count == 1);
}

}  // namespace xfer::test
