// DownloadTask: one download while it is Active — its state machine, its segments and streams,
// its ".part" file and its checkpoints. It exists only while the transfer moves bytes; every
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
// Body bytes go from the transport callback straight to pwrite at the cursor; when a rate limit
// runs out the stream is paused (flow control), never buffered.
//
// Threading: loop thread only. Owned by EngineCore through a shared_ptr; pool completions and
// timers hold weak_ptrs.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include <xfer/transfer_status.h>

#include "protocols/download/range_decision.h"
#include "protocols/http/digest_fields.h"
#include "protocols/transport.h"
#include "store/records.h"
#include "transfer/engine/origin.h"
#include "transfer/engine/task_host.h"
#include "transfer/files/file_system.h"
#include "transfer/files/prefix_digest.h"

namespace xfer::engine {

std::string part_path_for(const std::string& destination);

class DownloadTask : public std::enable_shared_from_this<DownloadTask> {
 public:
  DownloadTask(TaskHost& host, store::TransferRecord record,
               std::vector<store::SegmentRecord> segments);
  ~DownloadTask();

  TransferId id() const { return record_.id; }
  const std::string& origin() const { return origin_; }

  // Queued → Active: opens the .part, trusts only the journaled offsets, starts the streams.
  void start();
  // Leaves Active for `target` (Paused, Queued at shutdown, Cancelled); task_stopped follows
  // once the final checkpoint (or, for Cancelled, the terminal batch) is durable.
  // `error`, when the stop is a failure's (Waiting, Paused by a local error), is journaled as
  // the transfer's last error and carried by the event.
  void stop(TransferState target, std::string reason, std::optional<Error> error = std::nullopt);
  // Periodic work: time-based checkpoints and progress events.
  void tick();
  TransferStatus status() const;
  // Still moving bytes (not stopping or stopped).
  bool running() const { return phase_ == Phase::Running || phase_ == Phase::Idle; }
  const store::TransferRecord& record() const { return record_; }

 private:
  struct Segment;
  class Sink;
  enum class Phase { Idle, Running, Stopping, Done };

  struct PersistJob {
    bool sync_data = true;
    bool hash_ahead = false;     // a periodic checkpoint: feed the digest the new prefix
    bool finalize = false;       // verify, fsync, rename, fsync dir, then commit
    bool remove_part = false;
    bool reset_segments = false; // erase stale segment records (restart / collapse)
    std::optional<store::OutboxEvent> event;
    std::function<void(Result<void>)> then;
  };

  // Attempts and streams.
  Result<void> open_part();
  void start_segment(Segment& segment);
  void on_head(Segment& segment, const protocols::ResponseHeaders& head);
  protocols::BodyAction on_body(Segment& segment, std::span<const std::uint8_t> data);
  void on_complete(Segment& segment, Result<void> outcome);
  void on_first_head(const protocols::RangeDecision& decision);
  Result<void> learn_digest(const protocols::ResponseHeaders& head, int status);
  // Splits the rest of a single-stream download into the spec's segments when it pays.
  void maybe_split();
  void restart_in_place(const std::string& reason);
  void restart_from_zero(const std::string& reason, Segment* current);
  void segment_done(Segment& segment);
  void detach(Segment& segment);
  void detach_all();
  void fail_attempt(const Error& error, std::optional<std::chrono::milliseconds> retry_after);
  void arm_rate_timer(std::chrono::nanoseconds wait);

  // Durability.
  void persist(PersistJob job);
  void run_next_persist();
  void maybe_checkpoint(bool force);
  void finalize();
  void finish(TransferState state, std::string message, bool remove_part, bool with_event,
              std::optional<Error> error = std::nullopt);

  void set_state(TransferState state, const std::string& why, const std::optional<Error>& error);
  std::uint64_t bytes_done() const;
  // Bytes from 0 that are all written (what the digest may hash so far).
  std::uint64_t written_prefix() const;
  std::int64_t unix_now() const { return host_.clock().unix_millis(); }

  TaskHost& host_;
  store::TransferRecord record_;
  Credentials credentials_;  // in memory only, never in record_
  std::string origin_;
  std::string part_path_;
  std::shared_ptr<files::File> file_;
  std::vector<std::unique_ptr<Segment>> segments_;
  Phase phase_ = Phase::Idle;
  protocols::Validators validators_;
  std::optional<std::uint64_t> size_;
  std::optional<protocols::Digest> server_digest_;
  std::optional<protocols::Digest> user_digest_;
  // Handed along the persist chain (one job at a time); replaced on a restart from zero.
  std::shared_ptr<files::PrefixDigest> digest_ = std::make_shared<files::PrefixDigest>();
  bool split_done_ = false;
  bool ranges_ok_ = false;  // the first response showed ranges will work
  SteadyTime attempt_started_{};
  bool size_checked_ = false;
  std::string protocol_;
  std::uint64_t generation_ = 0;
  int restarts_this_attempt_ = 0;  // bumped on restart-from-zero; stale persists ignore cursors

  std::deque<PersistJob> persists_;
  bool persist_in_flight_ = false;
  std::uint64_t bytes_at_checkpoint_ = 0;
  std::uint64_t bytes_at_attempt_start_ = 0;
  TransferState state_name_ = TransferState::Queued;  // last state announced (for logs)
  SteadyTime last_checkpoint_{};

  boost::asio::steady_timer rate_timer_;
  bool rate_timer_armed_ = false;
  SteadyTime last_progress_{};
  std::uint64_t bytes_at_progress_ = 0;
  double speed_ = 0;
};

}  // namespace xfer::engine
