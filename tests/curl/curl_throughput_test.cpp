// Throughput of CurlTransport from a local nginx (h2 over TLS and HTTP/1.1 plain), bytes counted
// and discarded in the sink, so the figure is the transport's own ceiling on this machine.
// Tagged [torture] so it only runs under the torture label; XFER_BENCH_MIB sets the size
// (default 1024). Prints MB/s; asserts only that every byte arrived.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "tests/curl/nginx_fixture.h"
#include "tests/curl/recording_sink.h"

namespace xfer::test {
namespace {

class CountingSink : public RecordingSink {
 public:
  protocols::BodyAction on_body(std::span<const std::uint8_t> data) override {
    bytes += data.size();
    ++calls;
    return protocols::BodyAction::Continue;
  }
  std::uint64_t bytes = 0;
  std::uint64_t calls = 0;
};

}  // namespace

TEST_CASE("curl transport download throughput from nginx", "[torture][bench][curl]") {
  const char* env = std::getenv("XFER_BENCH_MIB");
  const std::uint64_t size = (env != nullptr ? std::strtoull(env, nullptr, 10) : 1024) << 20;
  TempDir root("xfer-curl-bench");
  write_pattern_file(root / "big.bin", size, 5);
  NginxOptions options;
  options.root = root.path();
  auto nginx = NginxProcess::start(options);
  boost::asio::io_context io;
  TransportSettings config;
  config.ca_file = nginx->ca_file().string();
  auto transport = protocols::curl::CurlTransport::create(io, config);
  REQUIRE(transport.has_value());
  struct Route {
    const char* name;
    std::string url;
    HttpVersion version;
  };
  for (const Route& route : {Route{"h2-tls", nginx->https_origin() + "/big.bin",
                                   HttpVersion::Any},
                             Route{"h1-plain", nginx->http_origin() + "/big.bin",
                                   HttpVersion::Http1_1}}) {
    CountingSink sink;
    protocols::HttpRequest request;
    request.url = route.url;
    request.version = route.version;
    const auto start = std::chrono::steady_clock::now();
    auto stream = (*transport)->start(request, sink);
    REQUIRE(stream.has_value());
    REQUIRE(run_until(io, [&] { return sink.done(); }, std::chrono::minutes(5)));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    REQUIRE(sink.outcome->has_value());
    CHECK(sink.bytes == size);
    std::printf("curl transport %-8s %6.0f MiB in %.2f s = %.0f MB/s (%llu body calls)\n",
                route.name, static_cast<double>(size) / (1 << 20), seconds,
                static_cast<double>(size) / seconds / 1e6,
                static_cast<unsigned long long>(sink.calls));
  }
}

}  // namespace xfer::test
