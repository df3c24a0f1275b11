#include "store/leveldb_journal.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <system_error>
#include <type_traits>

#include <fmt/format.h>
#include <leveldb/env.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <unistd.h>

#include "store/batch_ops.h"
#include "store/journal_integrity.h"
#include "store/journal_keys.h"
#include "store/leveldb_errors.h"
#include "store/record_codec.h"

namespace xfer::store {
namespace {

// Like leveldb's own writer queue: a group stops growing at about 1 MiB so that one slow
// giant group cannot hold many small synced writers hostage.
constexpr std::size_t kMaxGroupWeight = 1 << 20;
constexpr std::size_t kOpWeight = 128;
constexpr int kBloomBitsPerKey = 10;

std::string_view view(const leveldb::Slice& s) { return {s.data(), s.size()}; }
bool has_prefix(const leveldb::Slice& key, std::string_view prefix) {
  return key.size() >= prefix.size() && view(key).substr(0, prefix.size()) == prefix;
}

leveldb::ReadOptions read_options(const leveldb::Snapshot* snapshot = nullptr) {
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.snapshot = snapshot;
  return ro;
}

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};

void raise_to(std::atomic<TransferId>& counter, TransferId at_least) {
  TransferId current = counter.load();
  while (current < at_least && !counter.compare_exchange_weak(current, at_least)) {
  }
}

// Where recover() keeps a hard link to a torn log while leveldb recovers (and deletes) it.
constexpr const char* kKeptLogDirectory = "torn-log";

Error directory_error(const std::error_code& ec, const std::string& directory) {
  if (ec.value() == EROFS)
    return Error(ErrorCategory::LocalIo,
                 fmt::format("creating journal {}: the directory is on a read-only filesystem", directory));
  return error_from_errno(ec.value(), fmt::format("creating journal {}", directory));
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::open(const JournalOptions& options) { return LevelDbJournal::open(options); }

Result<void> Journal::checkpoint(const SegmentRecord& segment) {
  Batch batch;
  batch.put_segment(segment);
  return commit(std::move(batch), Durability::Synced);
}

LevelDbJournal::LevelDbJournal(JournalOptions options, leveldb::Env* env,
                               std::unique_ptr<PidLock> lock)
    : options_(std::move(options)),
      env_(env),
      lock_(std::move(lock)),
      filter_(leveldb::NewBloomFilterPolicy(kBloomBitsPerKey)),
      queue_(options_.group_commit, kMaxGroupWeight) {}

LevelDbJournal::~LevelDbJournal() {
  db_.reset();  // close leveldb before the pid lock goes (member order also ensures it)
}

Error LevelDbJournal::db_error(const leveldb::Status& status, std::string_view what) const {
  if (is_damage(status))
    return journal_damaged(options_.directory, fmt::format("{}: leveldb reports {}", what, status.ToString()));
  return error_from_leveldb(status, what, options_.directory);
}

Error LevelDbJournal::with_kept_log(Error error) const {
  if (kept_torn_log_.empty()) return error;
  return Error(error.category(),
               fmt::format("{} (the log leveldb could not read to its end is kept as {})", error.message(), kept_torn_log_),
               error.retryable());
}

Result<std::unique_ptr<Journal>> LevelDbJournal::open(const JournalOptions& options,
                                                     leveldb::Env* env) {
  const std::string& dir = options.directory;
  if (dir.empty()) return fail(ErrorCategory::InvalidArgument, "journal directory is empty");
  std::error_code ec;
  if (options.create_if_missing) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return std::unexpected(directory_error(ec, dir));
  } else if (!std::filesystem::is_directory(dir, ec)) {
    return fail(ErrorCategory::NotFound, fmt::format("journal {} does not exist", dir));
  }
  auto lock = PidLock::acquire(dir);
  if (!lock) return std::unexpected(lock.error());

  std::unique_ptr<LevelDbJournal> journal(new LevelDbJournal(options, env, std::move(*lock)));
  auto watermark = DurableWatermark::read(dir);
  if (!watermark) {
    if (watermark.error().category() != ErrorCategory::Journal) return std::unexpected(watermark.error());
    return std::unexpected(journal_damaged(dir, watermark.error().message()));
  }
  if (auto r = journal->recover(*watermark); !r) return std::unexpected(r.error());
  auto checked = [&]() -> Result<void> {
    if (auto r = journal->initialise(*watermark); !r) return r;
    if (auto r = journal->load_counters(); !r) return r;
    if (auto r = journal->check_recovered(*watermark); !r) return r;
    if (options.verify_on_open) return verify_tables(*journal->db_, journal->env(), dir);
    return {};
  }();
  if (!checked) return std::unexpected(journal->with_kept_log(checked.error()));
  journal->release_kept_log();
  // A journal written before the watermark existed gets one now; so does one whose file was
  // removed (its commits are in the database: nothing is known to be missing).
  auto opened = DurableWatermark::open(dir, journal->commits_);
  if (!opened) return std::unexpected(opened.error());
  journal->watermark_ = std::move(*opened);
  return std::unique_ptr<Journal>(std::move(journal));
}

leveldb::Env& LevelDbJournal::env() const {
  return env_ != nullptr ? *env_ : *leveldb::Env::Default();
}

Result<void> LevelDbJournal::recover(std::optional<std::uint64_t> watermark) {
  const std::string& dir = options_.directory;
  auto before = check_before_recovery(env(), dir, watermark);
  if (!before) return std::unexpected(before.error());
  // leveldb reads a torn record as the end of the log and deletes the log after recovery.
  // That is right after a crash, but a log whose head was overwritten looks the same; keep
  // the bytes until check_recovered() has seen that nothing durable went missing. Best effort:
  // without hard links the check still runs, only the evidence is not kept.
  if (!before->torn_log.empty()) {
    const std::filesystem::path kept_dir = std::filesystem::path(dir) / kKeptLogDirectory;
    const std::filesystem::path kept = kept_dir / std::filesystem::path(before->torn_log).filename();
    std::error_code ec;
    std::filesystem::create_directory(kept_dir, ec);
    std::filesystem::remove(kept, ec);
    if (::link(before->torn_log.c_str(), kept.c_str()) == 0) kept_torn_log_ = kept.string();
  }
  leveldb::DB* db = nullptr;
  const leveldb::Status status = leveldb::DB::Open(db_options(), dir, &db);
  if (!status.ok()) return std::unexpected(with_kept_log(db_error(status, "opening")));
  db_.reset(db);
  return {};
}

Result<std::uint64_t> LevelDbJournal::stored_commits() {
  auto raw = get_raw(std::string(keys::kCommitCount));
  if (!raw) return std::unexpected(raw.error());
  if (!*raw) return 0;  // written before commit numbers existed
  return decode_counter(keys::kCommitCount, **raw);
}

Result<void> LevelDbJournal::check_recovered(std::optional<std::uint64_t> watermark) {
  auto stored = stored_commits();
  if (!stored) return std::unexpected(stored.error());
  if (auto r = check_recovered_commits(options_.directory, *stored, watermark); !r) return r;
  // Never reuse a number: a failed write's number may be in the log without having been read back.
  commits_ = std::max(commits_, *stored);
  return {};
}

void LevelDbJournal::release_kept_log() {
  // Also what an open that was killed before getting here left: the checks passed, so none of
  // it is evidence of anything.
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::path(options_.directory) / kKeptLogDirectory, ec);
  kept_torn_log_.clear();
}

leveldb::Options LevelDbJournal::db_options() const {
  leveldb::Options o;
  o.create_if_missing = options_.create_if_missing;
  o.paranoid_checks = true;
  o.filter_policy = filter_.get();
  if (env_ != nullptr) o.env = env_;
  return o;
}

Result<LevelDbJournal::DbHold> LevelDbJournal::hold() const {
  std::shared_lock lock(db_mutex_);
  if (!db_)
    return fail(ErrorCategory::Journal,
                fmt::format("journal {} is closed: reopening it after a failed write failed too; "
                            "the next commit tries again",
                            options_.directory));
  leveldb::DB* db = db_.get();
  return DbHold{std::move(lock), db};
}

Result<void> LevelDbJournal::reopen() {
  {
    std::unique_lock lock(db_mutex_);
    db_.reset();
    if (auto r = recover(watermark_->value()); !r)
      return std::unexpected(r.error().with_context("reopening after a failed write"));
  }
  // Ids already handed out by next_transfer_id() are never handed out again.
  const TransferId handed_out = next_id_.load();
  if (auto r = load_counters(); !r) return r;
  raise_to(next_id_, handed_out);
  if (auto r = check_recovered(watermark_->value()); !r) return std::unexpected(with_kept_log(r.error()));
  release_kept_log();
  needs_reopen_ = false;
  return {};
}

Result<void> LevelDbJournal::initialise(std::optional<std::uint64_t> watermark) {
  const std::string schema_key(keys::kSchema);
  auto raw = get_raw(schema_key);
  if (!raw) return std::unexpected(raw.error());
  if (!*raw) {
    auto held = hold();
    if (!held) return std::unexpected(held.error());
    std::unique_ptr<leveldb::Iterator> it(held->db->NewIterator(read_options()));
    it->SeekToFirst();
    if (it->Valid())
      return fail(ErrorCategory::Journal,
                  fmt::format("journal {} holds records but no schema version key ({}): it is not an xfer "
                              "journal, or it is damaged",
                              options_.directory, keys::kSchema));
    if (!it->status().ok()) return std::unexpected(db_error(it->status(), "reading"));
    if (watermark.value_or(0) > 0)
      return std::unexpected(journal_damaged(
          options_.directory, fmt::format("its database is empty, but commit #{} was reported durable: leveldb's "
                                          "write-ahead log was replaced, emptied, removed or overwritten",
                                          *watermark)));
    // Commit #1: every write to the log carries a commit number (store/journal_integrity.h).
    leveldb::WriteBatch batch;
    batch.Put(schema_key, encode_counter(kSchemaVersion));
    batch.Put(std::string(keys::kCommitCount), encode_counter(commits_ + 1));
    leveldb::WriteOptions synced;
    synced.sync = true;
    const leveldb::Status s = held->db->Write(synced, &batch);
    if (!s.ok()) return std::unexpected(db_error(s, "writing the schema version"));
    return {};
  }
  auto version = decode_counter(schema_key, **raw);
  if (!version) return std::unexpected(version.error().with_context(fmt::format("journal {}", options_.directory)));
  if (*version > kSchemaVersion)
    return fail(ErrorCategory::Journal,
                fmt::format("journal {} has schema version {}, newer than version {} that this xfer understands: "
                            "it was written by a newer xfer. Upgrade xfer, or use another journal directory",
                            options_.directory, *version, kSchemaVersion));
  if (*version == 0)
    return fail(ErrorCategory::Journal,
                fmt::format("journal {}: schema version 0 at key {} is invalid", options_.directory, keys::kSchema));
  return {};
}

Result<void> LevelDbJournal::load_counters() {
  auto counter = [&](std::string_view key) -> Result<std::uint64_t> {
    auto raw = get_raw(std::string(key));
    if (!raw) return std::unexpected(raw.error());
    if (!*raw) return 0;
    return decode_counter(key, **raw);
  };
  // The key just past the last one with `prefix` ("t/" -> "t0"): Seek there, step back.
  auto last_key = [&](std::string_view prefix) -> Result<std::optional<std::string>> {
    auto held = hold();
    if (!held) return std::unexpected(held.error());
    std::unique_ptr<leveldb::Iterator> it(held->db->NewIterator(read_options()));
    std::string past(prefix);
    past.back() = static_cast<char>(past.back() + 1);
    it->Seek(past);
    if (it->Valid())
      it->Prev();
    else
      it->SeekToLast();
    if (!it->status().ok()) return std::unexpected(db_error(it->status(), "reading"));
    if (it->Valid() && has_prefix(it->key(), prefix)) return it->key().ToString();
    return std::nullopt;
  };

  auto stored_id = counter(keys::kNextTransferId);
  if (!stored_id) return std::unexpected(stored_id.error());
  auto last_transfer = last_key(keys::kTransferPrefix);
  if (!last_transfer) return std::unexpected(last_transfer.error());
  TransferId next_id = std::max<TransferId>(*stored_id, 1);
  if (*last_transfer) {
    if (auto id = keys::transfer_id_of(**last_transfer)) next_id = std::max(next_id, *id + 1);
  }
  next_id_ = next_id;
  persisted_next_id_ = *stored_id;
  max_written_id_ = next_id - 1;

  auto stored_seq = counter(keys::kNextEventSeq);
  if (!stored_seq) return std::unexpected(stored_seq.error());
  auto last_event = last_key(keys::kEventPrefix);
  if (!last_event) return std::unexpected(last_event.error());
  next_seq_ = std::max<std::uint64_t>(*stored_seq, 1);
  if (*last_event) {
    if (auto seq = keys::seq_of_event(**last_event)) next_seq_ = std::max(next_seq_, *seq + 1);
  }
  persisted_next_seq_ = *stored_seq;
  return {};
}

Result<void> LevelDbJournal::commit(Batch batch, Durability durability) {
  if (batch.empty()) return {};
  GroupCommitQueue::Request request;
  request.payload = batch.ops_.get();
  request.sync = durability == Durability::Synced;
  request.weight = batch.ops_->list.size() * kOpWeight;
  return queue_.submit(request, [this](std::span<const GroupCommitQueue::Request* const> group, bool sync) {
    return apply_group(group, sync);
  });
}

std::vector<Result<void>> LevelDbJournal::apply_group(std::span<const GroupCommitQueue::Request* const> group,
                                                      bool sync) {
  std::vector<Result<void>> results;
  results.reserve(group.size());
  if (needs_reopen_) {
    if (auto r = reopen(); !r) {
      results.assign(group.size(), std::unexpected(r.error()));
      return results;
    }
  }
  Overlay overlay;
  leveldb::WriteBatch merged;
  std::uint64_t next_seq = next_seq_;
  bool any = false;
  for (const GroupCommitQueue::Request* request : group) {
    const auto& ops = *static_cast<const Batch::Ops*>(request->payload);
    Overlay delta;
    leveldb::WriteBatch one;
    std::uint64_t seq = next_seq;
    if (auto r = resolve(ops, overlay, delta, seq, one); !r) {
      results.emplace_back(std::unexpected(r.error()));
      continue;
    }
    for (auto& [id, record] : delta.transfers) overlay.transfers[id] = std::move(record);
    for (auto& [origin, record] : delta.origins) overlay.origins[origin] = std::move(record);
    for (auto& [id, indexes] : delta.segments_put) {
      auto& into = overlay.segments_put[id];
      into.insert(into.end(), indexes.begin(), indexes.end());
    }
    next_seq = seq;
    merged.Append(one);
    any = true;
    results.emplace_back();
  }
  if (!any) return results;

  const TransferId id_now = next_id_.load();
  if (id_now > persisted_next_id_) merged.Put(std::string(keys::kNextTransferId), encode_counter(id_now));
  if (next_seq != next_seq_) merged.Put(std::string(keys::kNextEventSeq), encode_counter(next_seq));
  // Numbered so that open can tell a log that lost a durable commit (store/durable_watermark.h).
  const std::uint64_t commit = commits_ + 1;
  merged.Put(std::string(keys::kCommitCount), encode_counter(commit));

  leveldb::WriteOptions write_options;
  write_options.sync = sync;
  leveldb::Status status;
  {
    auto held = hold();
    if (!held) {
      for (auto& r : results)
        if (r) r = std::unexpected(held.error());
      return results;
    }
    status = held->db->Write(write_options, &merged);
  }
  // Also after a failure: the bytes may have reached the log, and the number is not reused.
  commits_ = commit;
  if (!status.ok()) {
    // leveldb refuses every later write once one failed; reopen before the next group.
    needs_reopen_ = true;
    const Error error = db_error(status, sync ? "synced write" : "write");
    for (auto& r : results)
      if (r) r = std::unexpected(error);
    return results;
  }
  persisted_next_id_ = std::max(persisted_next_id_, id_now);
  next_seq_ = next_seq;
  persisted_next_seq_ = next_seq;
  // Only now is this commit durable; a Buffered group is not, so it leaves the watermark.
  if (sync) watermark_->advance(commit);
  return results;
}

Result<std::optional<TransferRecord>> LevelDbJournal::current_transfer(TransferId id, const Overlay& group,
                                                                       const Overlay& delta) {
  if (auto it = delta.transfers.find(id); it != delta.transfers.end()) return it->second;
  if (auto it = group.transfers.find(id); it != group.transfers.end()) return it->second;
  // No record above the highest id ever written exists: skip the read for new transfers.
  if (id > max_written_id_) return std::optional<TransferRecord>();
  return get_transfer(id);
}

Result<void> LevelDbJournal::resolve(const Batch::Ops& ops, const Overlay& group, Overlay& delta,
                                     std::uint64_t& next_seq, leveldb::WriteBatch& out) {
  for (const BatchOp& op : ops.list) {
    Result<void> step = std::visit(
        Overloaded{
            [&](const PutTransferOp& put) -> Result<void> {
              const TransferRecord& record = put.record;
              if (record.id == 0) return fail(ErrorCategory::InvalidArgument, "transfer id 0 is reserved");
              auto old = current_transfer(record.id, group, delta);
              if (!old) return std::unexpected(old.error());
              if (*old && is_unfinished((*old)->state)) out.Delete(keys::unfinished(**old));
              const std::string value = encode(record);
              out.Put(keys::transfer(record.id), value);
              // The index entry carries a copy of the record so that the restart scan reads
              // sequentially instead of one random Get per transfer.
              if (is_unfinished(record.state)) out.Put(keys::unfinished(record), value);
              raise_to(next_id_, record.id + 1);
              max_written_id_ = std::max(max_written_id_, record.id);
              delta.transfers[record.id] = record;
              return {};
            },
            [&](const EraseTransferOp& erase) -> Result<void> {
              auto old = current_transfer(erase.id, group, delta);
              if (!old) return std::unexpected(old.error());
              if (*old && is_unfinished((*old)->state)) out.Delete(keys::unfinished(**old));
              out.Delete(keys::transfer(erase.id));
              out.Delete(keys::upload(erase.id));
              const std::string prefix = keys::segment_prefix(erase.id);
              auto held = hold();
              if (!held) return std::unexpected(held.error());
              std::unique_ptr<leveldb::Iterator> it(held->db->NewIterator(read_options()));
              for (it->Seek(prefix); it->Valid() && has_prefix(it->key(), prefix); it->Next()) out.Delete(it->key());
              if (!it->status().ok()) return std::unexpected(db_error(it->status(), "reading segments"));
              for (const Overlay* o : {&group, static_cast<const Overlay*>(&delta)}) {
                if (auto found = o->segments_put.find(erase.id); found != o->segments_put.end())
                  for (std::uint32_t index : found->second) out.Delete(keys::segment(erase.id, index));
              }
              delta.transfers[erase.id] = std::nullopt;
              return {};
            },
            [&](const PutSegmentOp& put) -> Result<void> {
              const SegmentRecord& s = put.segment;
              out.Put(keys::segment(s.transfer_id, s.index), encode(s));
              delta.segments_put[s.transfer_id].push_back(s.index);
              return {};
            },
            [&](const PutOriginOp& put) -> Result<void> {
              if (put.origin.origin.empty()) return fail(ErrorCategory::InvalidArgument, "origin record without origin");
              OriginRecord record = put.origin;
              if (put.fields != OriginFields::All) {
                // The stored record (as this group left it) keeps the fields this put does not own.
                std::optional<OriginRecord> stored;
                if (auto it = delta.origins.find(record.origin); it != delta.origins.end()) {
                  stored = it->second;
                } else if (auto g = group.origins.find(record.origin); g != group.origins.end()) {
                  stored = g->second;
                } else {
                  auto read = get_origin(record.origin);
                  if (!read) return std::unexpected(read.error());
                  stored = std::move(*read);
                }
                if (stored) {
                  OriginRecord merged = *stored;
                  if (put.fields == OriginFields::Uploads) {
                    merged.upload_interop_version = record.upload_interop_version;
                    merged.upload_limits = record.upload_limits;
                    merged.updated_at = record.updated_at;
                  } else {
                    merged.alt_svc = record.alt_svc;
                    merged.h3_broken_until = record.h3_broken_until;
                  }
                  record = std::move(merged);
                }
              }
              out.Put(keys::origin(record.origin), encode(record));
              delta.origins[record.origin] = std::move(record);
              return {};
            },
            [&](const AddEventOp& add) -> Result<void> {
              // The outbox holds what must be delivered exactly once: terminal events only.
              if (!is_terminal(add.event.kind))
                return fail(ErrorCategory::InvalidArgument, "outbox event of a non-terminal kind");
              OutboxEvent event = add.event;
              event.seq = next_seq++;
              out.Put(keys::event(event.seq), encode(event));
              return {};
            },
            [&](const AckEventOp& ack) -> Result<void> {
              out.Delete(keys::event(ack.seq));
              return {};
            },
            [&](const PutUploadOp& put) -> Result<void> {
              if (put.upload.transfer_id == 0)
                return fail(ErrorCategory::InvalidArgument, "upload record of transfer 0");
              out.Put(keys::upload(put.upload.transfer_id), encode(put.upload));
              return {};
            },
        },
        op);
    if (!step) return step;
  }
  return {};
}

Result<TransferId> LevelDbJournal::next_transfer_id() { return next_id_.fetch_add(1); }

Result<std::optional<std::string>> LevelDbJournal::get_raw(const std::string& key, const leveldb::Snapshot* snapshot) {
  std::string value;
  auto held = hold();
  if (!held) return std::unexpected(held.error());
  const leveldb::Status status = held->db->Get(read_options(snapshot), key, &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) return std::unexpected(db_error(status, fmt::format("reading key {}", keys::describe(key))));
  return std::optional<std::string>(std::move(value));
}

Result<std::optional<TransferRecord>> LevelDbJournal::get_transfer(TransferId id) {
  const std::string key = keys::transfer(id);
  auto raw = get_raw(key);
  if (!raw) return std::unexpected(raw.error());
  if (!*raw) return std::optional<TransferRecord>();
  auto record = decode_transfer(key, **raw);
  if (!record) return std::unexpected(record.error());
  return std::optional<TransferRecord>(std::move(*record));
}

Result<void> LevelDbJournal::scan_unfinished(const std::function<bool(const TransferRecord&)>& fn) {
  auto held = hold();
  if (!held) return std::unexpected(held.error());
  std::unique_ptr<leveldb::Iterator> it(held->db->NewIterator(read_options()));
  const std::string prefix(keys::kUnfinishedPrefix);
  for (it->Seek(prefix); it->Valid() && has_prefix(it->key(), prefix); it->Next()) {
    const std::string_view index_key = view(it->key());
    auto record = decode_transfer(index_key, view(it->value()));
    if (!record) return std::unexpected(record.error());
    if (!is_unfinished(record->state) || keys::unfinished(*record) != index_key)
      return fail(ErrorCategory::Journal, fmt::format("corrupt journal: index entry {} does not match the record it holds",
                                                      keys::describe(index_key)));
    if (!fn(*record)) return {};
  }
  if (!it->status().ok()) return std::unexpected(db_error(it->status(), "scanning unfinished transfers"));
  return {};
}

Result<void> LevelDbJournal::scan_all(const std::function<bool(const TransferRecord&)>& fn) {
  auto held = hold();
  if (!held) return std::unexpected(held.error());
  std::unique_ptr<leveldb::Iterator> it(held->db->NewIterator(read_options()));
  const std::string prefix(keys::kTransferPrefix);
  for (it->Seek(prefix); it->Valid() && has_prefix(it->key(), prefix); it->Next()) {
    const std::string_view key = view(it->key());
    auto record = decode_transfer(key, view(it->value()));
    if (!record) return std::unexpected(record.error());
    if (keys::transfer_id_of(key) != record->id)
      return fail(ErrorCategory::Journal,
                  fmt::format("corrupt journal record at key {}: it holds transfer {}", keys::describe(key), record->id));
    if (!fn(*record)) return {};
  }
  if (!it->status().ok()) return std::unexpected(db_error(it->status(), "scanning transfers"));
  return {};
}

Result<std::vector<SegmentRecord>> LevelDbJournal::segments(TransferId id) {
  std::vector<SegmentRecord> out;
  auto held = hold();
  if (!held) return std::unexpected(held.error());
  std::unique_ptr<leveldb::Iterator> it(held->db->NewIterator(read_options()));
  const std::string prefix = keys::segment_prefix(id);
  for (it->Seek(prefix); it->Valid() && has_prefix(it->key(), prefix); it->Next()) {
    auto segment = decode_segment(view(it->key()), view(it->value()));
    if (!segment) return std::unexpected(segment.error());
    out.push_back(*segment);
  }
  if (!it->status().ok()) return std::unexpected(db_error(it->status(), "reading segments"));
  return out;
}

Result<std::optional<UploadRecord>> LevelDbJournal::get_upload(TransferId id) {
  const std::string key = keys::upload(id);
  auto raw = get_raw(key);
  if (!raw) return std::unexpected(raw.error());
  if (!*raw) return std::optional<UploadRecord>();
  auto record = decode_upload(key, **raw);
  if (!record) return std::unexpected(record.error());
  if (record->transfer_id != id)
    return fail(ErrorCategory::Journal, fmt::format("corrupt journal record at key {}: it holds "
                                                    "transfer {}", keys::describe(key), record->transfer_id));
  return std::optional<UploadRecord>(std::move(*record));
}

Result<std::optional<OriginRecord>> LevelDbJournal::get_origin(const std::string& origin) {
  const std::string key = keys::origin(origin);
  auto raw = get_raw(key);
  if (!raw) return std::unexpected(raw.error());
  if (!*raw) return std::optional<OriginRecord>();
  auto record = decode_origin(key, **raw);
  if (!record) return std::unexpected(record.error());
  return std::optional<OriginRecord>(std::move(*record));
}

Result<std::vector<OutboxEvent>> LevelDbJournal::pending_events_after(std::uint64_t seq) {
  std::vector<OutboxEvent> out;
  if (seq == std::numeric_limits<std::uint64_t>::max()) return out;
  auto held = hold();
  if (!held) return std::unexpected(held.error());
  std::unique_ptr<leveldb::Iterator> it(held->db->NewIterator(read_options()));
  const std::string prefix(keys::kEventPrefix);
  // Event keys are the prefix and the big-endian sequence number, so key order is seq order.
  for (it->Seek(keys::event(seq + 1)); it->Valid() && has_prefix(it->key(), prefix); it->Next()) {
    auto event = decode_event(view(it->key()), view(it->value()));
    if (!event) return std::unexpected(event.error());
    out.push_back(std::move(*event));
  }
  if (!it->status().ok()) return std::unexpected(db_error(it->status(), "reading the outbox"));
  return out;
}

}  // namespace xfer::store
