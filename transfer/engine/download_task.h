// DownloadTask: one download while it is Active — its segments and streams, its ".part" file
// and what its checkpoints sync (the lifecycle, retries and persist chain are TaskCore's). It exists only while the transfer moves bytes; every
// other state lives in the journal alone (so queued transfers cost no memory, and the path
// after a crash is the same path as after a pause).
//
// Promises (design.md invariants):
// 1. An offset is journaled only after the bytes below it were fdatasync'ed (persist jobs run
//    in order on the blocking pool: sync the file, then commit the batch).
// 2. The destination appears only after size and digest checks, fsync, rename, directory fsync;
//    the Completed record and its outbox event are one synced batch after that.
// 3. Bytes are appended only when the pure range decision says the response continues the same
//    representation at our offset; anything else restarts from zero (and says so in an event).
// Body bytes go from the transport callback to pwrite at the cursor, gathered to 256 KiB per
// segment first (one write instead of one per DATA frame or packet); when a rate limit runs out
// the stream is paused (flow control), never buffered beyond that.
//
// Threading: loop thread only. Owned by EngineCore through a shared_ptr; pool completions and
// timers hold weak_ptrs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocols/download/range_decision.h"
#include "protocols/http/digest_fields.h"
#include "protocols/transport.h"
#include "store/records.h"
#include "transfer/engine/hash_ahead.h"
#include "transfer/engine/origin.h"
#include "transfer/engine/task_core.h"
#include "transfer/files/file_system.h"
#include "transfer/files/part_file.h"
#include "transfer/files/prefix_digest.h"

namespace xfer::engine {

std::string part_path_for(const std::string& destination);

class DownloadTask final : public TaskCore {
 public:
  DownloadTask(TaskHost& host, store::TransferRecord record,
               std::vector<store::SegmentRecord> segments);
  ~DownloadTask() override;

 private:
  struct Segment;
  class Sink;

  // TaskCore.
  Result<void> prepare() override;
  void launch() override;
  void release_exchanges() override;
  void resume_paused() override;
  PersistWork prepare_persist(const PersistJob& job) override;
  std::uint64_t bytes_done() const override;
  std::uint64_t durable_bytes() const override;
  bool worth_keeping_after(const Error& error) const override;
  void on_tick() override { maybe_split(); }
  void fill_status(TransferStatus& status) const override;

  std::shared_ptr<DownloadTask> self() {
    return std::static_pointer_cast<DownloadTask>(shared_from_this());
  }
  std::weak_ptr<DownloadTask> weak_self() { return self(); }

  // Attempts and streams.
  void start_segment(Segment& segment);
  void on_head(Segment& segment, const protocols::ResponseHeaders& head);
  protocols::BodyAction on_body(Segment& segment, std::span<const std::uint8_t> data);
  void on_complete(Segment& segment, Result<void> outcome);
  void on_first_head(const protocols::RangeDecision& decision);
  Result<void> learn_digest(const protocols::ResponseHeaders& head, int status);
  // Splits the rest of a single-stream download into the spec's segments when it pays.
  void maybe_split();
  void restart_in_place(const std::string& reason);
  void restart_from_zero(const std::string& reason);
  void segment_done(Segment& segment);
  void detach(Segment& segment);
  // Body bytes of `segment` into the file: gathered while small, written once enough arrived or
  // `last` (nothing more for this segment).
  Result<void> take_body(Segment& segment, std::span<const std::uint8_t> data, bool last);
  // What `segment` gathered, into the file at its cursor.
  Result<void> write_pending(Segment& segment);
  // Bytes from 0 that are all written (what the digest may hash so far).
  std::uint64_t written_prefix() const;
  // What the finalize checks: the announced size and every digest wanted.
  files::FinalizeChecks finalize_checks() const;
  // Offers the written prefix to hash_ahead_.
  void hash_ahead();

  std::string part_path_;
  std::shared_ptr<files::File> file_;
  std::vector<std::unique_ptr<Segment>> segments_;
  protocols::Validators validators_;
  std::optional<protocols::Digest> server_digest_;
  std::optional<protocols::Digest> user_digest_;
  // Advanced by hash_ahead_'s jobs, finished by the finalize; replaced on a restart from zero.
  std::shared_ptr<files::PrefixDigest> digest_ = std::make_shared<files::PrefixDigest>();
  HashAhead hash_ahead_;
  bool split_done_ = false;
  bool ranges_ok_ = false;  // the first response showed ranges will work
  bool size_checked_ = false;
  int restarts_this_attempt_ = 0;  // bumped on restart-from-zero
};

}  // namespace xfer::engine
