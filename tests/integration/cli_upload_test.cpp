// `xfer put` against the real xfer-testserver: every interop version 3..10, both creation
// modes, HTTP/1.1, h2c and h2 over TLS; the server's faults; SIGKILL of xfer put followed by
// `xfer resume`; the server SIGKILLed and restarted mid-upload; and the errors a user meets
// (a missing source, a changed source, a wrong checksum, a wrong flag). Every upload is read
// back with `xfer get` and compared by SHA-256.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "store/journal.h"
#include "tests/integration/engine_harness.h"
#include "tests/integration/upload_fixture.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;

TEST_CASE("xfer put uploads at every interop version, both creation modes, read back by GET",
          "[cli][upload]") {
  UploadFixture f(3'000'000);
  for (int version = 3; version <= 10; ++version) {
    for (const std::string creation : {"careful", "optimistic"}) {
      CAPTURE(version, creation);
      const auto before = f.completed();
      std::vector<std::string> extra{"--interop-version", std::to_string(version), "--creation",
                                     creation};
      // Some with several appends, some over h2c.
      if (version % 2 == 0) extra.insert(extra.end(), {"--chunk-size", "700K"});
      if (version >= 9) extra.push_back("--http2");
      auto r = run_cli(put_args(f, f.server->http_origin() + "/uploads", extra));
      INFO(r.stderr_text);
      REQUIRE(r.exit_code == 0);
      CHECK(r.stderr_text.empty());
      f.check_one_new_upload(before);
    }
  }
  // h2 over TLS, trusting the server's certificate.
  const auto before = f.completed();
  auto tls = run_cli(put_args(f, f.server->https_origin() + "/uploads",
                              {"--cacert", f.server->cert().string(), "--http2"}));
  INFO(tls.stderr_text);
  REQUIRE(tls.exit_code == 0);
  f.check_one_new_upload(before);
  // Without trust: refused before any byte is sent.
  auto untrusted = run_cli(put_args(f, f.server->https_origin() + "/uploads", {"--retry", "0"}));
  CHECK(untrusted.exit_code == 4);
}

TEST_CASE("xfer put survives the server's faults on uploads", "[cli][upload][faults]") {
  UploadFixture f(4'000'000);
  struct Case {
    std::string fault;
    std::vector<std::string> extra;
  };
  // times= counters are per server and per item text: every case uses its own numbers.
  const std::vector<Case> cases = {
      {"reset-after=1000000,times=1", {"--creation", "optimistic"}},
      {"close-after=1500000,times=1", {"--creation", "optimistic"}},
      {"reset-after=1000001,times=1", {"--creation", "optimistic", "--http2"}},
      // The careful creation takes the first arming; the first append is cut.
      {"reset-after=700000,times=2", {"--creation", "careful", "--chunk-size", "1M"}},
      {"status=503,retry-after=1,times=2", {}},
      {"stall=500000:1500", {"--creation", "optimistic"}},
      {"no-104", {"--creation", "optimistic"}},
      {"no-104,reset-after=1000002,times=1", {"--creation", "optimistic"}},
      {"lag-offset=300000,times=1,reset-after=2000000,times=1", {"--creation", "optimistic"}},
      {"throttle=8000000", {"--chunk-size", "1M"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.fault);
    const auto before = f.completed();
    auto extra = c.extra;
    extra.insert(extra.end(), {"-H", "Xfer-Fault: " + c.fault});
    auto r = run_cli(put_args(f, f.server->http_origin() + "/uploads", extra));
    INFO(r.stderr_text);
    if (c.fault.starts_with("no-104,")) {
      // Without a 104 the cut creation named no resource: nothing to resume, so it starts over.
      CHECK(r.exit_code == 0);
    } else {
      REQUIRE(r.exit_code == 0);
    }
    if (r.exit_code == 0) f.check_one_new_upload(before);
  }
}

TEST_CASE("a test server SIGKILLed and restarted mid-upload: xfer resume finishes it",
          "[cli][upload][crash]") {
  UploadFixture f(6'000'000);
  const auto before = f.completed();
  // The server kills itself 2 MB into the body; xfer retries against the dead port until it is
  // killed too. Then the server comes back on the same port and `xfer resume` finishes.
  auto first = run_cli(put_args(f, f.server->http_origin() + "/uploads",
                                {"--creation", "optimistic", "-H",
                                 "Xfer-Fault: crash-after=2000000,times=1"}),
                       std::chrono::milliseconds(2500));
  CHECK(first.exit_code == -9);
  CHECK_FALSE(f.server->running());
  f.server->restart();
  auto second = run_cli({"resume", "--journal", f.journal()});
  INFO(first.stderr_text << second.stderr_text);
  REQUIRE(second.exit_code == 0);
  f.check_one_new_upload(before);
}

namespace {
void kill_put_and_resume(int iterations) {
  UploadFixture f(4 << 20);
  std::mt19937_64 rng(Catch::rngSeed());
  int resumed = 0;
  for (int i = 0; i < iterations; ++i) {
    const auto journal = f.journal("journal-" + std::to_string(i));
    const auto kill_ms = std::uniform_int_distribution<int>(5, 900)(rng);
    CAPTURE(i, kill_ms);
    const auto before = f.completed();
    const std::string creation = i % 2 ? "careful" : "optimistic";
    auto first = run_cli({"put", f.source.string(), f.server->http_origin() + "/uploads",
                          "--journal", journal, "--creation", creation, "--chunk-size", "1M",
                          "-H", "Xfer-Fault: throttle=6000000"},
                         std::chrono::milliseconds(kill_ms));
    const bool was_complete = f.completed().size() > before.size();
    auto second = run_cli({"resume", "--journal", journal});
    INFO(second.stderr_text);
    REQUIRE(second.exit_code == 0);
    const auto after = f.completed();
    // Killed before the enqueue was journaled: nothing to resume, nothing uploaded.
    if (after.size() == before.size()) continue;
    f.check_one_new_upload(before);
    if (!was_complete) ++resumed;
    fs::remove_all(journal);
  }
  CHECK(resumed >= iterations / 2);
}
}  // namespace

TEST_CASE("SIGKILL of xfer put at random moments, then xfer resume", "[cli][upload][crash]") {
  kill_put_and_resume(30);
}

TEST_CASE("SIGKILL of xfer put, 500 iterations", "[cli][upload][crash][torture]") {
  kill_put_and_resume(500);
}

TEST_CASE("xfer put refuses what cannot work before a byte moves", "[cli][upload]") {
  UploadFixture f(100'000);
  const auto url = f.server->http_origin() + "/uploads";
  auto missing = run_cli({"put", (f.dir / "nope.bin").string(), url, "--journal", f.journal()});
  CHECK(missing.exit_code == 8);
  CHECK(missing.stderr_text.find("nope.bin") != std::string::npos);
  auto directory = run_cli({"put", f.dir.path().string(), url, "--journal", f.journal()});
  CHECK(directory.exit_code == 2);
  CHECK(directory.stderr_text.find("not a regular file") != std::string::npos);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--interop-version", "11"}, {"--interop-version", "2"},
        {"--protocol", "ftp"}, {"--method", "GET"}, {"--creation", "eager"}, {"--chunk-size", "0"},
        {"--checksum", "md5:00"}}) {
    CAPTURE(bad[0], bad[1]);
    auto r = run_cli(put_args(f, url, bad));
    CHECK(r.exit_code == 2);
  }
  auto no_url = run_cli({"put", f.source.string(), "--journal", f.journal()});
  CHECK(no_url.exit_code == 2);
  auto bad_url = run_cli({"put", f.source.string(), "ftp://x/y", "--journal", f.journal()});
  CHECK(bad_url.exit_code == 2);
  CHECK(f.completed().empty());
}

TEST_CASE("a source changed since its upload began is never resumed onto the old upload",
          "[cli][upload]") {
  UploadFixture f(4 << 20);
  const auto url = f.server->http_origin() + "/uploads";
  // Killed mid-way (4 MiB at 1 MB/s), late enough that even a loaded machine has journaled the
  // upload: at 1.2 s under a parallel test run it once had not, and resume found nothing.
  auto first = run_cli(put_args(f, url, {"--creation", "careful", "--chunk-size", "1M", "-H",
                                         "Xfer-Fault: throttle=1000000"}),
                       std::chrono::milliseconds(2500));
  CHECK(first.exit_code == -9);
  const auto listed = run_cli({"ls", "--journal", f.journal()});
  INFO(listed.stdout_text);
  REQUIRE(listed.stdout_text.find(f.source.filename().string()) != std::string::npos);
  // Rewrite the source (same size, new bytes): the server's prefix is no longer this file's.
  write_pattern_file(f.source, 4 << 20, 99);
  f.source_sha = sha256_file(f.source);
  auto refused = run_cli({"resume", "--journal", f.journal()});
  CHECK(refused.exit_code == 2);
  CHECK(refused.stderr_text.find("changed since its upload began") != std::string::npos);
  CHECK(f.completed().empty());

  // Asked to, it starts a new upload with the new bytes.
  const auto before = f.completed();
  auto fresh = run_cli(put_args(f, url, {"--restart-if-changed", "--chunk-size", "1M", "-H",
                                         "Xfer-Fault: reset-after=1500000,times=1"}));
  INFO(fresh.stderr_text);
  REQUIRE(fresh.exit_code == 0);
  f.check_one_new_upload(before);
}

TEST_CASE("put --checksum is sent as Repr-Digest and the server refuses a mismatch", "[cli][upload]") {
  UploadFixture f(1'000'000);
  const auto url = f.server->http_origin() + "/uploads";
  const auto before = f.completed();
  auto good = run_cli(put_args(f, url, {"--checksum", "sha256:" + f.source_sha}));
  INFO(good.stderr_text);
  REQUIRE(good.exit_code == 0);
  f.check_one_new_upload(before);
  const auto before_bad = f.completed();
  auto bad = run_cli(put_args(f, url, {"--checksum", "sha256:" + std::string(64, 'a'), "--retry",
                                       "0"}));
  CHECK(bad.exit_code != 0);
  CHECK(f.completed() == before_bad);
}

TEST_CASE("put --protocol put: a plain PUT, sent again from zero after a cut - POST only if allowed",
          "[cli][upload]") {
  UploadFixture f(2'000'000);
  const auto target = [&](const std::string& name) { return f.server->http_origin() + "/files/" + name; };
  auto plain = run_cli(put_args(f, target("plain.bin"), {"--protocol", "put"}));
  INFO(plain.stderr_text);
  REQUIRE(plain.exit_code == 0);
  CHECK(sha256_file(f.dir / "root" / "plain.bin") == f.source_sha);

  // Cut once: PUT is idempotent, so the second attempt sends the whole file again.
  auto cut = run_cli(put_args(f, target("cut.bin"),
                              {"--protocol", "put", "-H", "Xfer-Fault: reset-after=500000,times=1"}));
  INFO(cut.stderr_text);
  REQUIRE(cut.exit_code == 0);
  CHECK(sha256_file(f.dir / "root" / "cut.bin") == f.source_sha);

  // POST is not idempotent: an interrupted one is not sent again unless allowed. (times=
  // counters are per server and per item text, hence a new threshold for each case.)
  auto post = run_cli(put_args(f, target("post.bin"),
                               {"--protocol", "put", "--method", "POST", "-H",
                                "Xfer-Fault: reset-after=500001,times=1"}));
  CHECK(post.exit_code == 2);
  CHECK(post.stderr_text.find("not idempotent") != std::string::npos);
  auto replayed = run_cli(put_args(f, target("post2.bin"),
                                   {"--protocol", "put", "--method", "POST", "--allow-replay", "-H",
                                    "Xfer-Fault: reset-after=500002,times=1"}));
  INFO(replayed.stderr_text);
  REQUIRE(replayed.exit_code == 0);
  CHECK(sha256_file(f.dir / "root" / "post2.bin") == f.source_sha);
  // Not a tus server: a clear error naming the reason, nothing stored.
  auto tus = run_cli(put_args(f, target("t.bin"), {"--protocol", "tus"}));
  CHECK(tus.exit_code == 5);
  CHECK(tus.stderr_text.find("may not be a tus server") != std::string::npos);
  CHECK_FALSE(fs::exists(f.dir / "root" / "t.bin"));
}

namespace {
// The stdin spools a journal holds (`xfer put -`).
std::size_t spools_in(const std::string& journal) {
  const auto dir = fs::path(journal) / "spool";
  std::size_t n = 0;
  if (fs::exists(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().rfind("stdin-", 0) == 0) ++n;
  return n;
}
}  // namespace

TEST_CASE("xfer put - uploads what a pipe delivers and removes its spool once done",
          "[cli][upload][stdin]") {
  UploadFixture f(3'000'001);
  for (const std::string protocol : {"ietf", "put"}) {
    CAPTURE(protocol);
    const auto before = f.completed();
    const std::string url = protocol == "put" ? f.server->http_origin() + "/files/from-stdin.bin"
                                              : f.server->http_origin() + "/uploads";
    // A real pipe, written in two bursts so that reads return short.
    const std::string command = fmt::format(
        "(head -c 1000000 '{0}'; sleep 0.2; tail -c +1000001 '{0}') | '{1}' put - '{2}' --journal '{3}' "
        "--protocol {4}",
        f.source.string(), XFER_CLI_PATH, url, f.journal(), protocol);
    const auto r = run_process({"bash", "-c", command}, std::chrono::seconds(60));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    if (protocol == "put")
      CHECK(sha256_file(f.dir / "root" / "from-stdin.bin") == f.source_sha);
    else
      f.check_one_new_upload(before);
    CHECK(spools_in(f.journal()) == 0);
  }
}

// Whether some file in `dir` (if it exists) whose name passes `wanted` holds at least `bytes`.
bool holds_at_least(const fs::path& dir, std::uint64_t bytes,
                    const std::function<bool(const fs::path&)>& wanted = {}) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (wanted && !wanted(it->path())) continue;
    std::error_code size_ec;
    if (fs::file_size(it->path(), size_ec) >= bytes && !size_ec) return true;
  }
  return false;
}

TEST_CASE("xfer put - sends what stdin delivered before stdin ends", "[cli][upload][stdin]") {
  constexpr std::uint64_t kFirst = 2'000'000;
  UploadFixture f(3'500'001);
  const auto before = f.completed();
  // The test server keeps an unfinished upload's bytes in data/parts/<id>.part (synced before
  // they are acknowledged): they are there while the pipe is still paused.
  const auto r = put_from_paused_pipe(f.source, kFirst, std::chrono::milliseconds(4000),
                                      {f.server->http_origin() + "/uploads", "--journal", f.journal()},
                                      [&] { return holds_at_least(f.dir / "data" / "parts", kFirst); });
  INFO(r.process.err);
  REQUIRE(r.process.exit_code == 0);
  CHECK(r.seen_during_pause);
  f.check_one_new_upload(before);
  CHECK(spools_in(f.journal()) == 0);
}

TEST_CASE("xfer put - cut off before stdin ended is cancelled by xfer resume, not finished short",
          "[cli][upload][stdin][crash]") {
  UploadFixture f(1'000'000);
  const auto before = f.completed();
  // The pipe stays open (the writer sleeps) when xfer is killed: its input never ended.
  std::atomic<bool> started{false};
  std::thread killer([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!holds_at_least(f.dir / "data" / "parts", 1'000'000) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    started = true;
    (void)run_process({"pkill", "-KILL", "-f", "put - " + f.server->http_origin() + "/uploads"});
    // And the pipe's writer, so the pipeline ends now (its pause is this test's own).
    (void)run_process({"pkill", "-KILL", "-f", "sleep 29.777"});
  });
  const auto r = put_from_paused_pipe(f.source, 1'000'000, std::chrono::milliseconds(29'777),
                                      {f.server->http_origin() + "/uploads", "--journal", f.journal()},
                                      [&] { return started.load(); });
  killer.join();
  REQUIRE(started);
  CHECK(r.process.exit_code != 0);
  CHECK(spools_in(f.journal()) == 1);
  const auto resumed = run_cli({"resume", "--journal", f.journal()});
  INFO(resumed.stderr_text);
  CHECK(resumed.exit_code == 11);
  CHECK(resumed.stderr_text.find("before its input ended") != std::string::npos);
  CHECK(f.completed() == before);  // nothing published short
  CHECK(spools_in(f.journal()) == 0);
  CHECK_FALSE(holds_at_least(f.dir / "data" / "parts", 1));  // DELETE removed the partial upload
}

TEST_CASE("xfer put - killed mid-upload is finished by xfer resume from its spool",
          "[cli][upload][stdin][crash]") {
  UploadFixture f(6'000'000);
  const auto before = f.completed();
  const auto killed = run_cli({"put", "-", f.server->http_origin() + "/uploads", "--journal",
                               f.journal(), "--chunk-size", "1M", "-H", "Xfer-Fault: throttle=3000000"},
                              std::chrono::milliseconds(1200), std::chrono::seconds(60), f.source);
  INFO(killed.stderr_text);
  REQUIRE(killed.exit_code == -9);
  CHECK(spools_in(f.journal()) == 1);
  const auto resumed = run_cli({"resume", "--journal", f.journal()});
  INFO(resumed.stderr_text);
  REQUIRE(resumed.exit_code == 0);
  f.check_one_new_upload(before);
  CHECK(spools_in(f.journal()) == 0);
}

TEST_CASE("xfer put - is refused beside other files and for a bad URL before stdin is read and keeps no spool after a failure",
          "[cli][upload][stdin]") {
  UploadFixture f(10);
  auto r = run_cli({"put", "-", f.source.string(), f.server->http_origin() + "/up/", "--journal", f.journal()});
  CHECK(r.exit_code == 2);
  CHECK(r.stderr_text.find("only FILE") != std::string::npos);
  r = run_cli({"put", "-", "ftp://example/x", "--journal", f.journal()}, std::nullopt,
              std::chrono::seconds(30), f.source);
  CHECK(r.exit_code == 2);
  CHECK(spools_in(f.journal()) == 0);
  // A failed upload keeps no spool: nothing resumes it.
  r = run_cli({"put", "-", f.server->http_origin() + "/uploads", "--journal", f.journal(), "-H",
               "Xfer-Fault: status=403"},
              std::nullopt, std::chrono::seconds(30), f.source);
  CHECK(r.exit_code == 5);
  CHECK(spools_in(f.journal()) == 0);
}
