// LevelDbJournal: the Journal over one leveldb database (docs/journal.md). Internal to
// store/; everyone else sees the Journal interface from store/journal.h.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>

#include "store/durable_watermark.h"
#include "store/group_commit.h"
#include "store/journal.h"
#include "store/pid_lock.h"

namespace xfer::store {

class LevelDbJournal final : public Journal {
 public:
  // `env`: leveldb's file system (tests pass a fault-injecting one); nullptr is leveldb's own.
  static Result<std::unique_ptr<Journal>> open(const JournalOptions& options,
                                               leveldb::Env* env = nullptr);
  ~LevelDbJournal() override;

  Result<void> commit(Batch batch, Durability durability) override;
  Result<TransferId> next_transfer_id() override;
  Result<std::optional<TransferRecord>> get_transfer(TransferId id) override;
  Result<void> scan_unfinished(const std::function<bool(const TransferRecord&)>& fn) override;
  Result<void> scan_all(const std::function<bool(const TransferRecord&)>& fn) override;
  Result<std::vector<SegmentRecord>> segments(TransferId id) override;
  Result<std::optional<UploadRecord>> get_upload(TransferId id) override;
  Result<std::optional<OriginRecord>> get_origin(const std::string& origin) override;
  Result<std::vector<OutboxEvent>> pending_events_after(std::uint64_t seq) override;

 private:
  // Records changed earlier in the group being built, which the database does not show yet.
  struct Overlay {
    std::unordered_map<TransferId, std::optional<TransferRecord>> transfers;  // nullopt = erased
    std::unordered_map<TransferId, std::vector<std::uint32_t>> segments_put;
    std::unordered_map<std::string, OriginRecord> origins;
  };

  // A reader's hold on the database: a reopen cannot swap it while held.
  struct DbHold {
    std::shared_lock<std::shared_mutex> lock;
    leveldb::DB* db;
  };

  LevelDbJournal(JournalOptions options, leveldb::Env* env, std::unique_ptr<PidLock> lock);
  leveldb::Options db_options() const;
  leveldb::Env& env() const;
  // The checks before leveldb's recovery, then DB::Open (store/journal_integrity.h).
  Result<void> recover(std::optional<std::uint64_t> watermark);
  // Compares the recovered commit number with the watermark.
  Result<void> check_recovered(std::optional<std::uint64_t> watermark);
  // The torn log recover() kept: named in an error after recovery, dropped once all is well.
  Error with_kept_log(Error error) const;
  void release_kept_log();
  Result<std::uint64_t> stored_commits();
  Result<DbHold> hold() const;
  // After a failed write leveldb refuses all later ones; the group-commit leader closes and
  // reopens the database (recovery replays the log) before the next group.
  Result<void> reopen();
  Result<void> initialise(std::optional<std::uint64_t> watermark);
  Result<void> load_counters();
  std::vector<Result<void>> apply_group(std::span<const GroupCommitQueue::Request* const> group, bool sync);
  Result<void> resolve(const Batch::Ops& ops, const Overlay& group, Overlay& delta, std::uint64_t& next_seq,
                       leveldb::WriteBatch& out);
  Result<std::optional<TransferRecord>> current_transfer(TransferId id, const Overlay& group, const Overlay& delta);
  Result<std::optional<std::string>> get_raw(const std::string& key, const leveldb::Snapshot* snapshot = nullptr);
  Error db_error(const leveldb::Status& status, std::string_view what) const;

  JournalOptions options_;
  leveldb::Env* env_ = nullptr;  // nullptr: leveldb's default
  std::unique_ptr<PidLock> lock_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  mutable std::shared_mutex db_mutex_;  // exclusive only while reopening
  std::unique_ptr<leveldb::DB> db_;
  GroupCommitQueue queue_;
  std::atomic<TransferId> next_id_{1};
  // Touched only by the group-commit leader (one at a time).
  TransferId persisted_next_id_ = 0;
  TransferId max_written_id_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t persisted_next_seq_ = 0;
  bool needs_reopen_ = false;
  std::uint64_t commits_ = 0;                     // number of the last commit group written
  std::unique_ptr<DurableWatermark> watermark_;  // set once open() succeeded
  std::string kept_torn_log_;                     // hard link made by recover(), if any
};

}  // namespace xfer::store
