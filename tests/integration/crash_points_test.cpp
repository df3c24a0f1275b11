// Deterministic crashes at every durability step of a download (base/crash_point.h):
// `xfer get` is killed with SIGKILL exactly at the named step, the journal is reopened and
// checked, then `xfer resume` must finish byte-identical. Invariants (design.md): 1. no
// journaled offset beyond the bytes in the .part; 2. the destination is absent or complete and
// verified, never partial; 5. a completion committed before the crash is delivered by the next
// run (and then acknowledged once), and no transfer completes twice.
#include <cstdlib>
#include <filesystem>

#include <catch2/catch.hpp>

#include "store/journal.h"
#include "tests/integration/engine_harness.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

struct JournalView {
  std::size_t transfers = 0;
  std::size_t completed = 0;
  std::size_t pending_events = 0;
  bool offsets_within_part = true;
};

JournalView look(const fs::path& dir) {
  JournalView v;
  store::JournalOptions options;
  options.directory = dir.string();
  options.create_if_missing = false;
  auto journal = store::Journal::open(options);
  REQUIRE(journal);
  REQUIRE((*journal)->scan_all([&](const store::TransferRecord& r) {
    ++v.transfers;
    if (r.state == TransferState::Completed) ++v.completed;
    auto segments = (*journal)->segments(r.id);
    REQUIRE(segments);
    // After the rename the bytes are at the destination until Completed is journaled.
    const auto on_disk = download_bytes_on_disk(r.local_path);
    for (const auto& s : *segments)
      if (r.state != TransferState::Completed && s.offset > s.start && s.offset > on_disk)
        v.offsets_within_part = false;
    return true;
  }));
  auto events = (*journal)->pending_events();
  REQUIRE(events);
  v.pending_events = events->size();
  return v;
}

struct CrashCase {
  const char* point;
  bool completion_committed;  // the Completed record is durable when the process dies
};

}  // namespace

TEST_CASE("crash at every durability step of a download, then resume", "[cli][crash-points]") {
  const CrashCase cases[] = {
      {"checkpoint-synced:3", false},   {"checkpoint-journaled:3", false},
      {"finalize-synced", false},       {"finalize-renamed", false},
      {"finalize-dir-synced", false},   {"completed-journaled", true},
      {"before-ack", true},
  };
  TempDir dir("xfer-crash-points");
  fs::create_directories(dir / "root");
  write_pattern_file(dir / "root" / "f.bin", 4 << 20, 21);
  const auto sha = sha256_file(dir / "root" / "f.bin");
  auto server = start_server(dir);
  const std::string url = server->http_origin() + "/files/f.bin?fault=throttle=16000000";

  for (const auto& c : cases) {
    CAPTURE(c.point);
    const auto journal = dir / (std::string("j-") + c.point);
    const auto dest = dir / (std::string("out-") + c.point) / "f.bin";
    ::setenv("XFER_CRASH_AT", c.point, 1);
    auto crashed = run_cli({"get", url, "-o", dest.string(), "--journal", journal.string(),
                            "--checkpoint-every", "256K"});
    ::unsetenv("XFER_CRASH_AT");
    INFO(crashed.stderr_text);
    REQUIRE(crashed.exit_code == -9);

    const auto after_crash = look(journal);
    CHECK(after_crash.offsets_within_part);                         // invariant 1
    if (fs::exists(dest)) CHECK(sha256_file(dest) == sha);          // invariant 2
    CHECK(after_crash.transfers == 1);
    if (c.completion_committed) {
      CHECK(after_crash.completed == 1);
      CHECK(after_crash.pending_events == 1);                       // invariant 5: not lost
    } else {
      CHECK(after_crash.completed == 0);
    }

    auto resumed = run_cli({"resume", "--journal", journal.string()});
    INFO(resumed.stderr_text);
    REQUIRE(resumed.exit_code == 0);
    REQUIRE(fs::exists(dest));
    CHECK(sha256_file(dest) == sha);
    CHECK_FALSE(fs::exists(dest.string() + ".part"));
    const auto after_resume = look(journal);
    CHECK(after_resume.transfers == 1);
    CHECK(after_resume.completed == 1);
    CHECK(after_resume.pending_events == 0);  // delivered and acknowledged exactly once
  }
}
