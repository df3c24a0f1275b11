// Journal: the durable memory of the engine, over leveldb. It holds transfer records, segment
// offsets, the per-origin capability cache and the outbox of unacknowledged events
// (docs/journal.md has the key schema and encoding).
//
// Promises:
// - Every record is versioned and checksummed; a record that fails either check is reported
//   as a Journal error naming its key, never used.
// - A Batch is applied atomically (one leveldb WriteBatch): all of it or none of it.
// - A Synced write returns only after the data is on stable storage. Concurrent synced writers
//   share one fsync (group commit), so many transfers checkpointing at once cost few fsyncs.
// - One process at a time: a second open fails with "journal in use by pid N".
// - Damage is refused at open, never papered over: a journal whose leveldb files are unreadable
//   anywhere, or that lost a commit it had reported durable (its log overwritten, cut off,
//   replaced or removed), fails Journal::open with a Journal error that says what is wrong and
//   how to start again (docs/journal.md, "Damage"). A crash or power cut is not damage: only
//   what was never reported durable may be missing afterwards.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <xfer/error.h>

#include "store/records.h"

namespace leveldb {
class Env;
}

namespace xfer::store {

enum class Durability { Synced, Buffered };

// A set of changes applied all-or-nothing by Journal::commit.
class Batch {
 public:
  Batch();
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;

  // Also maintains the unfinished-transfers index (inserted/removed by state).
  void put_transfer(const TransferRecord& record);
  void erase_transfer(TransferId id);  // with its segments
  void put_segment(const SegmentRecord& segment);
  void put_origin(const OriginRecord& origin);
  // The journal assigns event.seq at commit time.
  void add_event(const OutboxEvent& event);
  void ack_event(std::uint64_t seq);

  bool empty() const;

 private:
  friend class Journal;
  friend class LevelDbJournal;
  struct Ops;
  Ops& ops();  // creates the Ops of a moved-from Batch
  std::unique_ptr<Ops> ops_;
};

struct JournalOptions {
  std::string directory;
  bool create_if_missing = true;
  // Tests pass a fault-injecting leveldb::Env; nullptr means leveldb's default.
  leveldb::Env* env = nullptr;
  // Group commit: synced writers arriving while an fsync is in flight share the next one.
  bool group_commit = true;
  // At open, read every block of each table not read before (or whose size or mtime changed)
  // with leveldb's block checksums, so that a damaged table fails the open rather than a later
  // read. Tables are immutable: this costs one pass over what was written since the last open.
  // The checks of leveldb's log, MANIFEST and the watermark always run.
  bool verify_on_open = true;
};

class Journal {
 public:
  static Result<std::unique_ptr<Journal>> open(const JournalOptions& options);
  virtual ~Journal() = default;

  // All of the batch or none of it. A failed Synced commit may still surface after a restart
  // (its bytes reached the log, the fsync did not succeed) but is never reported durable; the
  // journal reopens leveldb before the next commit, so one failed fsync does not stop every
  // later write. Do not commit from inside a scan callback.
  virtual Result<void> commit(Batch batch, Durability durability) = 0;

  // A fresh id, never reused (persisted with the next commit).
  virtual Result<TransferId> next_transfer_id() = 0;

  virtual Result<std::optional<TransferRecord>> get_transfer(TransferId id) = 0;
  // Unfinished transfers, highest priority first, then oldest first. The callback returns
  // false to stop early; only one record is in memory at a time.
  virtual Result<void> scan_unfinished(const std::function<bool(const TransferRecord&)>& fn) = 0;
  // Every transfer record (finished ones too), in id order. Also the list of the `.part` files
  // the journal knows: a download's is `local_path + ".part"` (docs/journal.md, "Damage").
  virtual Result<void> scan_all(const std::function<bool(const TransferRecord&)>& fn) = 0;

  virtual Result<std::vector<SegmentRecord>> segments(TransferId id) = 0;

  virtual Result<std::optional<OriginRecord>> get_origin(const std::string& origin) = 0;

  // Unacknowledged events in the order they were added.
  virtual Result<std::vector<OutboxEvent>> pending_events() = 0;

  // Convenience: a synced single-segment checkpoint (uses group commit).
  Result<void> checkpoint(const SegmentRecord& segment);
};

}  // namespace xfer::store
