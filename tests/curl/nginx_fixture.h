// A document root with deterministic payloads at buffer edges and a running nginx serving it,
// plus a transport factory: the setup every curl transport test case shares.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "protocols/curl/curl_transport.h"
#include "tests/support/files.h"
#include "tests/support/nginx_process.h"
#include "tests/support/temp_dir.h"

namespace xfer::test {

inline constexpr std::uint64_t kMediumSize = 1024 * 1024 + 1;     // 1 MiB + 1
inline constexpr std::uint64_t kLargeSize = 8 * 1024 * 1024 + 7;  // several receive buffers
inline constexpr int kSmallFiles = 20;
inline constexpr std::uint64_t kSmallSize = 64 * 1024 + 1;

struct NginxFixture {
  explicit NginxFixture(std::string extra_server_config = {}) {
    write_pattern_file(root / "medium.bin", kMediumSize, 11);
    write_pattern_file(root / "large.bin", kLargeSize, 12);
    for (int i = 0; i < kSmallFiles; ++i) {
      write_pattern_file(root / ("small" + std::to_string(i) + ".bin"), kSmallSize, 100 + i);
    }
    NginxOptions options;
    options.root = root.path();
    options.plain_http1_ports = 2;
    options.h2c_port = true;
    options.extra_server_config = std::move(extra_server_config);
    nginx = NginxProcess::start(options);
  }

  std::unique_ptr<protocols::curl::CurlTransport> transport(
      TransportSettings config = {}, bool trust_nginx = true) {
    if (trust_nginx && config.ca_file.empty()) config.ca_file = nginx->ca_file().string();
    auto created = protocols::curl::CurlTransport::create(io, std::move(config));
    REQUIRE(created.has_value());
    return std::move(*created);
  }

  std::string sha(const std::string& name) { return sha256_file(root / name); }

  TempDir root{"xfer-curl-root"};
  std::unique_ptr<NginxProcess> nginx;
  boost::asio::io_context io;
};

}  // namespace xfer::test
