// The real `xfer` binary: downloads, exit codes, and SIGKILL at random moments followed by
// `xfer resume`, which must always end byte-identical (and never journal an offset beyond the
// bytes in the .part file).
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "store/journal.h"
#include "tests/integration/engine_harness.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

struct CliFixture {
  TempDir dir{"xfer-cli"};
  std::unique_ptr<TestServerProcess> server;
  fs::path source;
  std::string source_sha;

  explicit CliFixture(std::uint64_t size) {
    fs::create_directories(dir / "root");
    source = dir / "root" / "file.bin";
    write_pattern_file(source, size, 11);
    source_sha = sha256_file(source);
    server = start_server(dir);
  }
  std::string url(const std::string& query = "") const {
    return server->http_origin() + "/files/file.bin" + query;
  }
};

// Invariant 1 after a crash: every journaled offset is within the .part file.
void check_journal_not_ahead(const fs::path& journal_dir) {
  store::JournalOptions options;
  options.directory = journal_dir.string();
  options.create_if_missing = false;
  auto journal = store::Journal::open(options);
  if (!journal) return;  // killed before the journal was created
  auto scanned = (*journal)->scan_unfinished([&](const store::TransferRecord& r) {
    auto segments = (*journal)->segments(r.id);
    REQUIRE(segments);
    // Killed between the rename and the journal's Completed, the bytes are at the destination.
    const auto on_disk = download_bytes_on_disk(r.local_path);
    for (const auto& s : *segments) {
      INFO("segment " << s.index << " offset " << s.offset << " part size " << on_disk);
      CHECK((s.offset == s.start || s.offset <= on_disk));
    }
    return true;
  });
  REQUIRE(scanned);
}

void kill_and_resume(int iterations, std::uint64_t size, std::uint32_t segments,
                     std::uint64_t throttle, int kill_by_ms = 900) {
  CliFixture f(size);
  std::mt19937_64 rng(Catch::rngSeed());
  int resumed = 0;
  for (int i = 0; i < iterations; ++i) {
    const auto journal = f.dir / ("journal-" + std::to_string(i));
    const auto dest = f.dir / ("out-" + std::to_string(i)) / "file.bin";
    const auto kill_ms = std::uniform_int_distribution<int>(5, kill_by_ms)(rng);
    CAPTURE(i, kill_ms);
    auto first = run_cli({"get", f.url("?fault=throttle=" + std::to_string(throttle)), "-o", dest.string(),
                          "--journal", journal.string(), "--segments", std::to_string(segments)},
                         std::chrono::milliseconds(kill_ms));
    check_journal_not_ahead(journal);
    const bool was_complete = fs::exists(dest);
    auto second = run_cli({"resume", "--journal", journal.string()});
    INFO(second.stderr_text);
    REQUIRE(second.exit_code == 0);
    CHECK_FALSE(fs::exists(dest.string() + ".part"));
    if (fs::exists(dest)) {
      CHECK(sha256_file(dest) == f.source_sha);
      if (!was_complete) ++resumed;
    }
    fs::remove_all(journal);
    fs::remove_all(dest.parent_path());
  }
  // Most kills land mid-transfer; a handful land before the enqueue or after completion.
  CHECK(resumed >= iterations / 2);
}

}  // namespace

TEST_CASE("xfer get downloads a file and exits 0 quietly", "[cli]") {
  CliFixture f(3 << 20);
  const auto dest = f.dir / "out" / "file.bin";
  auto r = run_cli({"get", f.url(), "-o", dest.string(), "--journal", (f.dir / "j").string()});
  INFO(r.stderr_text);
  REQUIRE(r.exit_code == 0);
  CHECK(r.stderr_text.empty());
  CHECK(sha256_file(dest) == f.source_sha);

  fs::copy_file(f.source, f.dir / "root" / "second.bin");
  auto d = run_cli({"get", f.server->https_origin() + "/files/file.bin",
                    f.server->https_origin() + "/files/second.bin", "-d",
                    (f.dir / "many").string(), "--journal", (f.dir / "j").string(), "--http2",
                    "--cacert", f.server->cert().string()});
  INFO(d.stderr_text);
  REQUIRE(d.exit_code == 0);
  CHECK(sha256_file(f.dir / "many" / "file.bin") == f.source_sha);
  CHECK(sha256_file(f.dir / "many" / "second.bin") == f.source_sha);

  // Two URLs for one destination would lose one of them: refused before anything moves.
  auto same = run_cli({"get", f.url(), f.url("?x=1"), "-d", (f.dir / "same").string(),
                       "--journal", (f.dir / "j").string(), "--http1.1"});
  INFO(same.stderr_text);
  CHECK(same.exit_code == 2);
  CHECK_FALSE(fs::exists(f.dir / "same" / "file.bin"));
}

TEST_CASE("xfer get exit codes name the failure", "[cli]") {
  CliFixture f(1000);
  const auto journal = (f.dir / "j").string();
  auto missing = run_cli({"get", f.server->http_origin() + "/files/nope", "-o",
                          (f.dir / "a").string(), "--journal", journal});
  CHECK(missing.exit_code == 5);
  CHECK(missing.stderr_text.find("404") != std::string::npos);
  CHECK(std::count(missing.stderr_text.begin(), missing.stderr_text.end(), '\n') == 1);

  auto bad_sum = run_cli({"get", f.url(), "-o", (f.dir / "b").string(), "--journal", journal,
                          "--checksum", "sha256:" + std::string(64, 'a')});
  CHECK(bad_sum.exit_code == 7);
  CHECK_FALSE(fs::exists(f.dir / "b"));

  auto usage = run_cli({"get", "--segments", "0", f.url()});
  CHECK(usage.exit_code == 2);
  for (const char* bad : {"0", "-1M", "12Q", "1e30G"}) {
    auto r = run_cli({"get", "--checkpoint-every", bad, f.url(), "-o", (f.dir / "d").string(),
                      "--journal", journal});
    CHECK(r.exit_code == 2);
    CHECK_FALSE(fs::exists(f.dir / "d"));
  }
  auto small_checkpoints = run_cli({"get", "--checkpoint-every", "4K", f.url(), "-o",
                                    (f.dir / "e").string(), "--journal", journal});
  CHECK(small_checkpoints.exit_code == 0);
  CHECK(sha256_file(f.dir / "e") == f.source_sha);

  auto tls = run_cli({"get", f.server->https_origin() + "/files/file.bin", "-o",
                      (f.dir / "c").string(), "--journal", journal, "--retry", "0"});
  CHECK(tls.exit_code == 4);
  auto tls_ok = run_cli({"get", f.server->https_origin() + "/files/file.bin", "-o",
                         (f.dir / "c").string(), "--journal", journal, "--cacert",
                         f.server->cert().string()});
  INFO(tls_ok.stderr_text);
  CHECK(tls_ok.exit_code == 0);
}

TEST_CASE("SIGKILL of xfer get at random moments, then xfer resume", "[cli][crash]") {
  kill_and_resume(30, 4 << 20, 1, 6000000);
}

TEST_CASE("SIGKILL of segmented xfer get at random moments, then xfer resume", "[cli][crash]") {
  // The split comes after a one-second probe of the single stream: kill up to 2 s in so that
  // most kills land while the ranges run.
  kill_and_resume(10, 6 << 20, 4, 1500000, 2000);
}

TEST_CASE("SIGKILL of xfer get, 500 iterations", "[cli][crash][torture]") {
  kill_and_resume(500, 4 << 20, 1, 6000000);
}
