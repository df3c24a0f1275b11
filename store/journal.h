// Journal: the durable memory of the engine. It holds transfer records, segment offsets, upload
// records, the
// per-origin capability cache and the outbox of unacknowledged events. This interface names
// no storage engine: the one implementation today is over leveldb (store/leveldb_journal.h,
// docs/journal.md has its key schema and encoding); another backend implements the same
// promises.
//
// Promises:
// - Every record is versioned and checksummed; a record that fails either check is reported
//   as a Journal error naming its key, never used.
// - A Batch is applied atomically: all of it or none of it.
// - A Synced write returns only after the data is on stable storage. Concurrent synced writers
//   share one fsync (group commit), so many transfers checkpointing at once cost few fsyncs.
// - One process at a time: a second open fails with "journal in use by pid N".
// - Damage is refused at open, never papered over: a journal whose files are unreadable
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

namespace xfer::store {

enum class Durability { Synced, Buffered };

// Which fields of an origin record a put replaces. Two writers that each own some fields (an
// upload learning the server's interop version and limits, the engine learning its Alt-Svc)
// put only theirs: the merge with the stored record happens inside the commit, so neither
// undoes the other however their commits interleave.
enum class OriginFields { All, Uploads, Alternatives };

// A set of changes applied all-or-nothing by Journal::commit.
class Batch {
 public:
  Batch();
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;

  // Also maintains the unfinished-transfers index (inserted/removed by state).
  void put_transfer(const TransferRecord& record);
  void erase_transfer(TransferId id);  // with its segments and upload record
  void put_upload(const UploadRecord& upload);
  void put_segment(const SegmentRecord& segment);
  void put_origin(const OriginRecord& origin, OriginFields fields = OriginFields::All);
  // The journal assigns event.seq at commit time.
  void add_event(const OutboxEvent& event);
  void ack_event(std::uint64_t seq);
  // Moves every op of `other` behind these (one commit for several callers' batches).
  void append(Batch&& other);

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
  // Group commit: synced writers arriving while an fsync is in flight share the next one.
  bool group_commit = true;
  // At open, read back with its checksums what was written since the last open (leveldb: every
  // table not read before), so that damage fails the open rather than a later read. The
  // checks of what recovery replays always run.
  bool verify_on_open = true;
};

class Journal {
 public:
  // The default backend (leveldb).
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

  virtual Result<std::optional<UploadRecord>> get_upload(TransferId id) = 0;

  virtual Result<std::optional<OriginRecord>> get_origin(const std::string& origin) = 0;

  // Unacknowledged events in the order they were added.
  Result<std::vector<OutboxEvent>> pending_events() { return pending_events_after(0); }
  // Only those with a sequence number above `seq`: what arrived since a delivery that saw `seq`,
  // read without walking the outbox's older, still unacknowledged part.
  virtual Result<std::vector<OutboxEvent>> pending_events_after(std::uint64_t seq) = 0;

  // Convenience: a synced single-segment checkpoint (uses group commit).
  Result<void> checkpoint(const SegmentRecord& segment);
};

}  // namespace xfer::store
