// xfer against xfer-testserver over HTTP/3: downloads whole, segmented, cut by the server's
// faults (RESET_STREAM, CONNECTION_CLOSE) and resumed, SIGKILL of `xfer get` then `xfer
// resume`; resumable uploads at several interop versions with a cut creation resumed on its
// resource (the 104 came over HTTP/3); Alt-Svc learned over HTTP/2 sending the next run on the
// same journal to HTTP/3; hundreds of small files on one connection, each ending in time. The
// server's /_control/stats says which protocol carried the requests. Every file is compared by
// SHA-256.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <random>

#include "tests/integration/engine_harness.h"
#include "tests/integration/server_stats.h"
#include "tests/support/quic_peers.h"
#include "tests/integration/upload_fixture.h"
#include "tests/support/files.h"

using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

// Requests the server served over `protocol` so far ("h2", "h3", "http/1.1").
std::uint64_t served_over(const TestServerProcess& server, const TempDir& dir, const std::string& protocol) {
  return stat_of(control_json(server, dir, "stats"), protocol);
}

struct H3Fixture {
  TempDir dir{"xfer-h3ts"};
  std::unique_ptr<TestServerProcess> server;
  std::string sha;

  explicit H3Fixture(std::uint64_t size, std::vector<std::string> server_args = {}) {
    fs::create_directories(dir / "root");
    write_pattern_file(dir / "root" / "f.bin", size, 57);
    sha = sha256_file(dir / "root" / "f.bin");
    server_args.push_back("--control");
    server = start_server(dir, server_args);
    REQUIRE(server->h3_port() == server->tls_port());
  }
  std::string url(const std::string& query = "") const {
    return server->https_origin() + "/files/f.bin" + query;
  }
  std::vector<std::string> get(const std::string& url, const fs::path& out, const std::string& journal,
                               std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"get", url, "-o", out.string(), "--journal", (dir / journal).string(),
                                  "--cacert", server->cert().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
};

}  // namespace

TEST_CASE("xfer get --http3-only from xfer-testserver: whole, segmented, cut by the server", "[cli][h3]") {
  H3Fixture f(6'000'000);
  struct Case {
    std::string query;
    std::vector<std::string> extra;
  };
  const std::vector<Case> cases = {
      {"", {}},
      // Slow enough that the single stream is split into ranges, each a stream of one connection.
      {"?fault=throttle=1500000", {"--segments", "4"}},
      {"?fault=reset-after=1000000,times=1", {}},
      {"?fault=close-after=2000000,times=1", {}},
      {"?fault=reset-after=1500000,times=2", {"--segments", "3"}},
  };
  int n = 0;
  for (const auto& c : cases) {
    CAPTURE(c.query);
    const auto out = f.dir / "out" / ("f" + std::to_string(++n) + ".bin");
    auto extra = c.extra;
    extra.push_back("--http3-only");
    auto r = run_cli(f.get(f.url(c.query), out, "j" + std::to_string(n), extra));
    INFO(r.stderr_text);
    REQUIRE(r.exit_code == 0);
    CHECK(sha256_file(out) == f.sha);
  }
  CHECK(served_over(*f.server, f.dir, "h3") >= cases.size());
  CHECK(served_over(*f.server, f.dir, "h2") == 0);
}

TEST_CASE("xfer get --http3-only of many small files: no response waits for its end of stream", "[cli][h3]") {
  // Each response's FIN follows its body on its own, often while the congestion window is
  // full; a FIN the server never sent again held its file until the 20 s low-speed watchdog.
  // The certificate is one openssl makes, not --self-signed: with its handshake's size and
  // timing the first responses meet a full window (the stall was not seen with the other).
  TempDir dir{"xfer-h3fin"};
  fs::create_directories(dir / "root");
  constexpr int kFiles = 300;
  std::vector<std::string> shas;
  for (int i = 0; i < kFiles; ++i) {
    const auto name = "s" + std::to_string(i) + ".bin";
    write_pattern_file(dir / "root" / name, 2048, 100 + static_cast<std::uint64_t>(i));
    shas.push_back(sha256_file(dir / "root" / name));
  }
  const auto cert = make_certificate(dir / "tls", "localhost", true);
  TestServerOptions options;
  options.root = dir / "root";
  options.data = dir / "data";
  options.tls = false;
  options.plain = true;
  options.log_file = dir / "server.log";
  options.extra_args = {"--listen", "127.0.0.1:0", "--cert", cert.cert.string(), "--key", cert.key.string(), "--control"};
  auto server = TestServerProcess::start(options);
  REQUIRE(server->h3_port() == server->tls_port());
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    const auto out = dir / ("out-" + std::to_string(round));
    std::vector<std::string> args{"get", "--http3-only", "--journal", (dir / ("j" + std::to_string(round))).string(),
                                  "--cacert", cert.cert.string(), "-d", out.string()};
    for (int i = 0; i < kFiles; ++i) args.push_back(server->https_origin() + "/files/s" + std::to_string(i) + ".bin");
    const auto start = std::chrono::steady_clock::now();
    auto r = run_cli(args, std::chrono::seconds(10));
    const auto took = std::chrono::steady_clock::now() - start;
    INFO(r.stderr_text);
    REQUIRE(r.exit_code == 0);  // SIGKILLed after 10 s otherwise
    CHECK(took < std::chrono::seconds(10));
    for (int i = 0; i < kFiles; ++i) {
      const auto file = out / ("s" + std::to_string(i) + ".bin");
      CAPTURE(file);
      REQUIRE(fs::exists(file));
      CHECK(sha256_file(file) == shas[static_cast<std::size_t>(i)]);
    }
  }
  CHECK(served_over(*server, dir, "h3") >= 3 * kFiles);
  CHECK(served_over(*server, dir, "h2") == 0);
}

TEST_CASE("SIGKILL of xfer get over HTTP/3 at random moments, then xfer resume", "[cli][h3][crash]") {
  H3Fixture f(4 << 20);
  std::mt19937_64 rng(Catch::rngSeed());
  int resumed = 0;
  const int iterations = 8;
  for (int i = 0; i < iterations; ++i) {
    const auto kill_ms = std::uniform_int_distribution<int>(50, 900)(rng);
    CAPTURE(i, kill_ms);
    const auto out = f.dir / ("out-" + std::to_string(i)) / "f.bin";
    const std::string journal = "kill-" + std::to_string(i);
    run_cli(f.get(f.url("?fault=throttle=6000000"), out, journal, {"--http3-only"}),
            std::chrono::milliseconds(kill_ms));
    const bool was_complete = fs::exists(out);
    auto second = run_cli({"resume", "--journal", (f.dir / journal).string(), "--cacert", f.server->cert().string()});
    INFO(second.stderr_text);
    REQUIRE(second.exit_code == 0);
    CHECK_FALSE(fs::exists(out.string() + ".part"));
    if (fs::exists(out)) {
      CHECK(sha256_file(out) == f.sha);
      if (!was_complete) ++resumed;
    }
  }
  CHECK(resumed >= iterations / 2);
  CHECK(served_over(*f.server, f.dir, "h2") == 0);
}

TEST_CASE("xfer put over HTTP/3: resumable uploads, a cut creation resumed on its resource", "[cli][h3][upload]") {
  UploadFixture f(4'000'000, {"--control"});
  const std::vector<std::string> trust{"--cacert", f.server->cert().string(), "--http3-only"};
  for (const int version : {3, 6, 10}) {
    // times= counts per server and per item text: each version cuts at its own offset.
    for (const std::string& fault : {std::string(), "reset-after=" + std::to_string(1'000'000 + version) + ",times=1"}) {
      CAPTURE(version, fault);
      const auto before = f.completed();
      std::vector<std::string> extra = trust;
      extra.insert(extra.end(), {"--interop-version", std::to_string(version), "--creation", "optimistic"});
      if (!fault.empty()) extra.insert(extra.end(), {"-H", "Xfer-Fault: " + fault});
      auto r = run_cli(put_args(f, f.server->https_origin() + "/uploads", extra));
      INFO(r.stderr_text);
      REQUIRE(r.exit_code == 0);
      f.check_one_new_upload(before);
    }
  }
  // Several appends and a careful creation.
  const auto before = f.completed();
  auto extra = trust;
  extra.insert(extra.end(), {"--creation", "careful", "--chunk-size", "1M", "-H",
                             "Xfer-Fault: close-after=700000,times=2"});  // the empty creation takes one arming
  auto r = run_cli(put_args(f, f.server->https_origin() + "/uploads", extra));
  INFO(r.stderr_text);
  REQUIRE(r.exit_code == 0);
  f.check_one_new_upload(before);
  CHECK(served_over(*f.server, f.dir, "h3") >= 8);
  CHECK(served_over(*f.server, f.dir, "h2") == 0);
  // The cuts happened, over HTTP/3 (the server logs every fault it injected).
  const std::string text = control_json(*f.server, f.dir, "log");
  std::size_t cuts = 0;
  for (std::size_t at = 0; (at = text.find("\"protocol\":\"h3\"", at)) != std::string::npos; ++at) ++cuts;
  CHECK(cuts >= 4);  // three resets and the close
  CHECK(text.find("\"fault\":\"close-after\"") != std::string::npos);
}

TEST_CASE("Alt-Svc learned over HTTP/2 sends the next run on the journal to HTTP/3", "[cli][h3][alt-svc]") {
  H3Fixture f(3'000'000);
  // First run: nothing known, TCP (h2 by ALPN); the response advertises h3 at the same port.
  auto first = run_cli(f.get(f.url(), f.dir / "a.bin", "j"));
  INFO(first.stderr_text);
  REQUIRE(first.exit_code == 0);
  CHECK(sha256_file(f.dir / "a.bin") == f.sha);
  const auto h2_after_first = served_over(*f.server, f.dir, "h2");
  CHECK(h2_after_first >= 1);
  CHECK(served_over(*f.server, f.dir, "h3") == 0);

  // Second run, same journal, no flag: straight to HTTP/3.
  auto second = run_cli(f.get(f.url("?again"), f.dir / "b.bin", "j"));
  INFO(second.stderr_text);
  REQUIRE(second.exit_code == 0);
  CHECK(sha256_file(f.dir / "b.bin") == f.sha);
  CHECK(served_over(*f.server, f.dir, "h3") >= 1);
  CHECK(served_over(*f.server, f.dir, "h2") == h2_after_first);

  // An explicit TCP version is kept; another journal knows nothing.
  auto pinned = run_cli(f.get(f.url("?pinned"), f.dir / "c.bin", "j", {"--http2"}));
  REQUIRE(pinned.exit_code == 0);
  CHECK(served_over(*f.server, f.dir, "h2") == h2_after_first + 1);
  auto fresh = run_cli(f.get(f.url("?fresh"), f.dir / "d.bin", "other"));
  REQUIRE(fresh.exit_code == 0);
  CHECK(served_over(*f.server, f.dir, "h2") == h2_after_first + 2);
}

TEST_CASE("xfer get --limit-rate holds over HTTP/3 although the whole file fits the stream window", "[cli][h3][rate]") {
  // 3 MB < the 4 MiB window: the server sends it all at once and the client holds it; the limit
  // must pace what the sink takes, not let a whole backlog through in one piece.
  H3Fixture f(3'000'000);
  const auto started = std::chrono::steady_clock::now();
  auto r = run_cli(f.get(f.url(), f.dir / "limited.bin", "j", {"--http3-only", "--limit-rate", "1M"}));
  INFO(r.stderr_text);
  REQUIRE(r.exit_code == 0);
  CHECK(sha256_file(f.dir / "limited.bin") == f.sha);
  // 1 MiB/s with the limiter's first burst: well over 1.5 s.
  CHECK(std::chrono::steady_clock::now() - started > std::chrono::milliseconds(1500));
}

TEST_CASE("an origin whose HTTP/3 broke goes straight to TCP in the next run on the journal", "[cli][h3][alt-svc]") {
  // Every datagram to or from the server is dropped; TCP works and advertises h3.
  H3Fixture f(1'000'000, {"--udp-impair", "blackhole-after=0"});
  auto learn = run_cli(f.get(f.url(), f.dir / "a.bin", "j"));
  REQUIRE(learn.exit_code == 0);
  CHECK(served_over(*f.server, f.dir, "h3") == 0);
  const auto udp_before = stat_of(control_json(*f.server, f.dir, "stats"), "datagrams");

  // The journal says h3: tried, no handshake, TCP after the fallback delay; the failure is kept.
  auto fallback = run_cli(f.get(f.url("?b"), f.dir / "b.bin", "j"));
  INFO(fallback.stderr_text);
  REQUIRE(fallback.exit_code == 0);
  CHECK(sha256_file(f.dir / "b.bin") == f.sha);
  const auto udp_after_fallback = stat_of(control_json(*f.server, f.dir, "stats"), "datagrams");
  CHECK(udp_after_fallback > udp_before);

  // The next run does not knock on UDP at all.
  auto third = run_cli(f.get(f.url("?c"), f.dir / "c.bin", "j"));
  REQUIRE(third.exit_code == 0);
  CHECK(sha256_file(f.dir / "c.bin") == f.sha);
  CHECK(stat_of(control_json(*f.server, f.dir, "stats"), "datagrams") == udp_after_fallback);
  CHECK(served_over(*f.server, f.dir, "h3") == 0);
}

TEST_CASE("SIGKILL of xfer put over HTTP/3, then xfer resume at once", "[cli][h3][upload][crash]") {
  // A killed client over QUIC sends nothing: the server learns of it only at its idle timeout
  // (60 s here). The resume's offset retrieval ends the stale request (as the draft recommends)
  // instead of waiting for it.
  UploadFixture f(6'000'000, {"--control"});
  const auto before = f.completed();
  auto first = run_cli(put_args(f, f.server->https_origin() + "/uploads",
                                {"--cacert", f.server->cert().string(), "--http3-only", "--limit-rate", "4M"}),
                       std::chrono::milliseconds(700));
  CHECK(first.exit_code == -9);
  const auto started = std::chrono::steady_clock::now();
  auto second = run_cli({"resume", "--journal", f.journal(), "--cacert", f.server->cert().string()});
  INFO(second.stderr_text);
  REQUIRE(second.exit_code == 0);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  CHECK(second.stderr_text.find("409") == std::string::npos);
  f.check_one_new_upload(before);
}
