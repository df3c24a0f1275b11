// journal_demo: records two transfers and their checkpoints in a journal in a temporary
// directory, "restarts" (closes and reopens it), and prints what a restarted engine would
// find: the unfinished transfers in the order it would resume them, their durable offsets,
// and the outbox events the app has not acknowledged yet. scripts/demo runs it.
//   journal_demo [DIR]   (default: a fresh directory under $TMPDIR, removed at the end)
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <unistd.h>

#include <fmt/format.h>

#include "store/journal.h"

using namespace xfer;
using namespace xfer::store;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int fail(const xfer::Error& e) {
  std::fprintf(stderr, "journal_demo: %s\n", e.describe().c_str());
  return 1;
}

const char* state_name(TransferState s) {
  switch (s) {
    case TransferState::Queued: return "queued";
    case TransferState::Active: return "active";
    case TransferState::Paused: return "paused";
    case TransferState::Waiting: return "waiting";
    case TransferState::Completed: return "completed";
    case TransferState::Failed: return "failed";
    case TransferState::Cancelled: return "cancelled";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  const bool own_dir = argc < 2;
  std::string dir = own_dir ? (std::filesystem::temp_directory_path() / "xfer-journal-demo-XXXXXX").string() : argv[1];
  if (own_dir && ::mkdtemp(dir.data()) == nullptr) return 1;
  JournalOptions options;
  options.directory = dir;

  {
    auto journal = Journal::open(options);
    if (!journal) return fail(journal.error());
    Journal& j = **journal;
    std::printf("journal at %s\n", dir.c_str());

    // Two downloads and one upload admitted at once (one atomic batch).
    Batch admit;
    std::vector<TransferRecord> records;
    const char* urls[] = {"https://example.test/big.iso", "https://example.test/small.txt",
                          "https://upload.example.test/files/"};
    for (int i = 0; i < 3; ++i) {
      auto id = j.next_transfer_id();
      if (!id) return fail(id.error());
      TransferRecord t;
      t.id = *id;
      t.direction = i == 2 ? Direction::Upload : Direction::Download;
      t.url = urls[i];
      t.local_path = fmt::format("/tmp/demo-{}", *id);
      t.state = TransferState::Active;
      t.size = i == 0 ? 4ull << 30 : 2048;
      t.priority = i == 1 ? 5 : 0;
      t.created_at = now_ms() + i;
      t.etag = "\"v1\"";
      records.push_back(t);
      admit.put_transfer(t);
      SegmentRecord s;
      s.transfer_id = *id;
      s.end = t.size;
      admit.put_segment(s);
    }
    if (auto r = j.commit(std::move(admit), Durability::Synced); !r) return fail(r.error());

    // Synced checkpoints: in the engine these follow an fdatasync of the part file.
    SegmentRecord progress{records[0].id, 0, 0, records[0].size, 1ull << 30};
    if (auto r = j.checkpoint(progress); !r) return fail(r.error());
    progress.offset = 3ull << 29;
    if (auto r = j.checkpoint(progress); !r) return fail(r.error());

    // The small file finishes: state and completion event in one atomic batch.
    TransferRecord done = records[1];
    done.state = TransferState::Completed;
    done.updated_at = now_ms();
    Batch finish;
    finish.put_transfer(done);
    finish.put_segment(SegmentRecord{done.id, 0, 0, done.size, *done.size});
    finish.add_event(OutboxEvent{0, done.id, EventKind::Completed, "verified sha256, renamed into place", now_ms(), std::nullopt});
    if (auto r = j.commit(std::move(finish), Durability::Synced); !r) return fail(r.error());
    std::printf("recorded 3 transfers, 2 checkpoints, 1 completion; closing (as if the process stopped)\n\n");
  }

  auto journal = Journal::open(options);
  if (!journal) return fail(journal.error());
  Journal& j = **journal;
  std::printf("after reopening, unfinished transfers in resume order:\n");
  auto scanned = j.scan_unfinished([&](const TransferRecord& t) {
    std::uint64_t durable = 0;
    if (auto segs = j.segments(t.id); segs)
      for (const auto& s : *segs) durable += s.offset - s.start;
    std::printf("  #%llu %-8s %-6s prio %d  %s  resume at byte %llu of %llu\n", static_cast<unsigned long long>(t.id),
                t.direction == Direction::Upload ? "upload" : "download", state_name(t.state), t.priority, t.url.c_str(),
                static_cast<unsigned long long>(durable), static_cast<unsigned long long>(t.size.value_or(0)));
    return true;
  });
  if (!scanned) return fail(scanned.error());
  auto events = j.pending_events();
  if (!events) return fail(events.error());
  std::printf("events the app has not acknowledged yet:\n");
  for (const auto& e : *events)
    std::printf("  seq %llu: transfer #%llu completed (%s)\n", static_cast<unsigned long long>(e.seq),
                static_cast<unsigned long long>(e.transfer_id), e.message.c_str());

  // A second opener is refused while we hold it.
  auto second = Journal::open(options);
  std::printf("opening it a second time: %s\n", second ? "unexpectedly succeeded" : second.error().describe().c_str());
  journal->reset();
  if (own_dir) std::filesystem::remove_all(dir);
  return second ? 1 : 0;
}
