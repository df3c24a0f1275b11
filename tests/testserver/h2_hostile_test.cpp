// xfer-testserver's HTTP/2 side against hostile or broken peers, with a hand-rolled frame client
// (h2_raw_client.h): a peer that never opens its flow-control window, malformed frames, a
// rapid-reset burst; and the exact byte count of reset-after=N on h2 (raw client and nghttp).
// After each attack a real client (curl) on a new connection must still be served.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/files.h"
#include "tests/support/temp_dir.h"
#include "tests/support/testserver_process.h"
#include "tests/testserver/h2_raw_client.h"
#include "tests/testserver/ts_helpers.h"

using namespace std::chrono_literals;
using xfer::test::TempDir;
using xfer::test::TestServerOptions;
using xfer::test::TestServerProcess;
using xts_test::H2Frame;
using xts_test::H2RawClient;
namespace h2 = xts_test::h2;

namespace {

constexpr std::uint64_t kFileSize = 3 * 1024 * 1024 + 12345;
constexpr std::uint32_t kProtocolMaxWindow = 0x7fffffff;

struct Fixture {
  TempDir dir{"xts-h2-hostile"};
  std::unique_ptr<TestServerProcess> server;

  explicit Fixture(std::vector<std::string> extra_args = {}) {
    std::filesystem::create_directories(dir / "root");
    xfer::test::write_pattern_file(dir / "root" / "blob.bin", kFileSize, 11);
    TestServerOptions options;
    options.root = dir / "root";
    options.data = dir / "data";
    options.extra_args = std::move(extra_args);
    options.log_file = dir / "server.log";
    server = TestServerProcess::start(options);
  }

  // A whole-file h2c GET by curl on a fresh connection; true when all bytes arrived intact.
  bool curl_serves() const {
    const auto out = (dir / "curl.out").string();
    ::unlink(out.c_str());
    const auto p = xts_test::run_process({"curl", "-sS", "--max-time", "30", "--http2-prior-knowledge", "-o", out,
                                          "-w", "%{http_code}", server->http_origin() + "/files/blob.bin"},
                                         40s);
    if (p.exit_code != 0 || p.out != "200") {
      UNSCOPED_INFO("curl exit " << p.exit_code << " code " << p.out << " stderr " << p.err);
      return false;
    }
    return xfer::test::sha256_file(out) == xfer::test::sha256_file(dir / "root" / "blob.bin");
  }
};

// What a raw client saw of one GET on stream 1.
struct StreamOutcome {
  bool got_headers = false;
  std::uint64_t data_bytes = 0;
  bool end_stream = false;
  std::optional<std::uint32_t> rst_code;
  std::optional<std::uint32_t> goaway_code;
  bool closed = false;
  std::chrono::milliseconds ended_after{-1};
};

// Reads frames for stream 1 until it ends (END_STREAM, RST_STREAM), GOAWAY, close or `limit`.
// ACKs the server's SETTINGS; with `open_windows` returns every DATA byte as WINDOW_UPDATE.
StreamOutcome follow_stream(H2RawClient& c, std::chrono::milliseconds limit, bool open_windows) {
  StreamOutcome o;
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + limit;
  auto stop = [&] {
    o.ended_after = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  };
  while (std::chrono::steady_clock::now() < deadline) {
    auto f = c.next_frame(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    if (!f) {
      if (c.closed()) {
        o.closed = true;
        stop();
      }
      return o;
    }
    if (f->type == h2::kSettings && !(f->flags & h2::kAck)) c.send(h2::settings_ack());
    if (f->type == h2::kGoaway) {
      o.goaway_code = f->error_code();
      stop();
      return o;
    }
    if (f->stream != 1) continue;
    if (f->type == h2::kHeaders) o.got_headers = true;
    if (f->type == h2::kData) {
      o.data_bytes += f->payload.size();
      if (open_windows && !f->payload.empty()) {
        const auto n = static_cast<std::uint32_t>(f->payload.size());
        c.send(h2::window_update(0, n) + h2::window_update(1, n));
      }
    }
    if ((f->type == h2::kData || f->type == h2::kHeaders) && (f->flags & h2::kEndStream)) {
      o.end_stream = true;
      stop();
      return o;
    }
    if (f->type == h2::kRstStream) {
      o.rst_code = f->error_code();
      stop();
      return o;
    }
  }
  return o;
}

}  // namespace

TEST_CASE("h2: a peer that never opens its flow-control window is cut off after the idle timeout",
          "[testserver][h2][hostile]") {
  Fixture f({"--idle-timeout-ms", "1500"});
  struct Variant {
    const char* name;
    std::vector<std::pair<std::uint16_t, std::uint32_t>> settings;
    std::uint64_t expect_data;  // what the windows let through before the stall
  };
  const std::vector<Variant> variants = {
      {"INITIAL_WINDOW_SIZE=0", {{h2::kSettingsInitialWindowSize, 0}}, 0},
      {"default windows, no WINDOW_UPDATE", {}, 65535},
  };
  for (const auto& v : variants) {
    SECTION(v.name) {
      StreamOutcome outcome;
      std::thread stalled([&] {
        H2RawClient c(f.server->plain_port());
        if (!c.connected()) return;
        c.send(h2::kPreface + h2::settings(v.settings) + h2::get_request(1, "/files/blob.bin"));
        outcome = follow_stream(c, 10s, false);
      });
      // Meanwhile other clients are served.
      for (int i = 0; i < 2; ++i) CHECK(f.curl_serves());
      stalled.join();
      INFO("ended after " << outcome.ended_after.count() << " ms; rst " << outcome.rst_code.value_or(0)
                          << " goaway " << outcome.goaway_code.has_value() << " closed " << outcome.closed);
      CHECK(outcome.got_headers);
      CHECK(outcome.data_bytes == v.expect_data);
      CHECK_FALSE(outcome.end_stream);
      CHECK((outcome.rst_code == std::optional<std::uint32_t>(0x8) || outcome.goaway_code || outcome.closed));
      CHECK(outcome.ended_after >= 1400ms);  // it was the timeout, not an immediate rejection
      CHECK(outcome.ended_after <= 4000ms);  // and the timeout is enforced (1 s tick)
      CHECK(f.server->running());
      CHECK(f.curl_serves());
    }
  }
}

TEST_CASE("h2: malformed input gets GOAWAY or a closed connection, and the server serves on",
          "[testserver][h2][hostile]") {
  Fixture f;
  const std::string opening = h2::kPreface + h2::settings({});
  struct Attack {
    const char* name;
    std::string bytes;
    std::optional<std::uint32_t> expect_goaway;  // the RFC 9113 error code, when GOAWAY comes
  };
  std::string rapid_reset;
  for (std::uint32_t i = 0; i < 2000; ++i) {
    const std::uint32_t id = 1 + 2 * i;
    rapid_reset += h2::get_request(id, "/files/blob.bin") + h2::rst_stream(id, 0x8);
  }
  const std::vector<Attack> attacks = {
      // Indexed header field with index 0: invalid in HPACK (RFC 7541 §6.1).
      {"HEADERS with an invalid HPACK block",
       h2::frame(h2::kHeaders, h2::kEndHeaders | h2::kEndStream, 1, std::string("\x80", 1)), 0x9},
      {"DATA on stream 0", h2::frame(h2::kData, 0, 0, "hello"), 0x1},
      {"frame over SETTINGS_MAX_FRAME_SIZE",
       h2::get_request(1, "/files/blob.bin") + h2::frame(h2::kData, 0, 1, std::string(20000, 'x')), 0x6},
      // nghttp2's stream-reset rate limit (burst 1000) answers with INTERNAL_ERROR.
      {"rapid reset: HEADERS + RST_STREAM x 2000", rapid_reset, 0x2},
  };
  for (const auto& attack : attacks) {
    SECTION(attack.name) {
      H2RawClient c(f.server->plain_port());
      REQUIRE(c.connected());
      c.send(opening + attack.bytes);  // the server may hang up before taking it all
      std::optional<std::uint32_t> code;
      const bool ended = c.wait_goaway_or_close(10s, &code);
      INFO("goaway " << (code ? std::to_string(*code) : "none") << " closed " << c.closed());
      CHECK(ended);
      if (code && attack.expect_goaway) CHECK(*code == *attack.expect_goaway);
      CHECK(f.server->running());
      CHECK(f.curl_serves());
    }
  }
}

TEST_CASE("h2: reset-after=N delivers exactly N body bytes in DATA frames, then RST_STREAM",
          "[testserver][h2][fault]") {
  Fixture f;
  for (const std::uint64_t n : {std::uint64_t{1}, std::uint64_t{16384}, std::uint64_t{65536}, std::uint64_t{100000},
                                std::uint64_t{1048576 + 5}, std::uint64_t{2500000}}) {
    for (const bool big_window : {true, false}) {
      DYNAMIC_SECTION("N=" << n << (big_window ? " wide-open windows" : " 64 KiB windows, client acks as it reads")) {
        H2RawClient c(f.server->plain_port());
        REQUIRE(c.connected());
        std::string hello = h2::kPreface;
        if (big_window) {
          hello += h2::settings({{h2::kSettingsInitialWindowSize, kProtocolMaxWindow}}) +
                   h2::window_update(0, kProtocolMaxWindow - 65535);
        } else {
          hello += h2::settings({});
        }
        hello += h2::get_request(1, "/files/blob.bin?fault=reset-after=" + std::to_string(n));
        REQUIRE(c.send(hello));
        const auto o = follow_stream(c, 30s, !big_window);
        CHECK(o.got_headers);
        CHECK_FALSE(o.end_stream);
        CHECK(o.rst_code == std::optional<std::uint32_t>(0x2));  // INTERNAL_ERROR
        CHECK(o.data_bytes == n);
      }
    }
  }
  SECTION("nghttp over TLS and h2c: DATA lengths add up to N") {
    const std::uint64_t n = 1048576 + 5;
    const std::regex data_frame(R"(recv DATA frame <length=(\d+), flags=0x[0-9a-f]+, stream_id=(\d+)>)");
    for (const auto& base : {f.server->https_origin(), f.server->http_origin()}) {
      const auto p = xts_test::run_process({"nghttp", "-nv", base + "/files/blob.bin?fault=reset-after=" + std::to_string(n)}, 60s);
      std::uint64_t total = 0;
      for (auto it = std::sregex_iterator(p.out.begin(), p.out.end(), data_frame); it != std::sregex_iterator(); ++it) {
        total += std::stoull((*it)[1]);
      }
      INFO(base);
      CHECK(total == n);
      CHECK(p.out.find("recv RST_STREAM") != std::string::npos);
    }
  }
  CHECK(f.curl_serves());
}
