// TaskCore: what every active transfer does whatever its direction — its lifecycle and state
// events, the decision after a failed attempt (retry, pause, fail), the persistence chain that
// makes progress durable in order, rate pacing, progress events and status. DownloadTask and
// UploadTask derive from it and hold only what differs: which exchanges they run, what "bytes
// done" and "durable" mean, and what a persist job syncs or verifies before the journal commit.
//
// Promises kept here for both directions:
// - One persist job at a time, in the order asked for; each commits the transfer record (and its
//   terminal outbox event, if any) in one synced batch after the direction's own work succeeded.
// - A stop leaves Active only once its final persist is durable (task_stopped follows).
// - A pause by request clears the last error; a failure's stop records it (one rule, here).
//
// Threading: loop thread only. Owned by EngineCore through a shared_ptr; pool completions and
// timers hold weak_ptrs.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include <xfer/transfer_status.h>

#include "store/records.h"
#include "transfer/engine/task_host.h"
#include "transfer/files/prefix_digest.h"

namespace xfer::engine {

// The last error a transfer keeps when it stops for `target`: a failure's stop records it; a
// pause by request says nothing failed. (For tasks and for transfers paused in the journal.)
void record_stop_reason(store::TransferRecord& record, TransferState target,
                        const std::optional<Error>& error);

class TaskCore : public std::enable_shared_from_this<TaskCore> {
 public:
  TaskCore(TaskHost& host, store::TransferRecord record);
  virtual ~TaskCore();
  TaskCore(const TaskCore&) = delete;
  TaskCore& operator=(const TaskCore&) = delete;

  TransferId id() const { return record_.id; }
  const std::string& origin() const { return origin_; }
  const store::TransferRecord& record() const { return record_; }

  // Queued → Active: counts the attempt, fetches the withheld secrets, prepare(), launch().
  void start();
  // Leaves Active for `target` (Paused, Queued at shutdown, Waiting, Cancelled); task_stopped
  // follows once the final checkpoint (or, for Cancelled, the terminal batch) is durable.
  // `error`, when the stop is a failure's, is journaled as the last error and carried by the
  // event.
  void stop(TransferState target, std::string reason, std::optional<Error> error = std::nullopt);
  // Cancels a transfer that is not running (queued, paused, waiting or failed): what it left
  // on the server is withdrawn (an upload's DELETE, bounded), then the Cancelled batch is
  // journaled and task_stopped follows.
  void cancel_idle();
  // Periodic work: time-based checkpoints and progress events.
  void tick();
  // The engine's bandwidth limits changed: a wait computed under the old ones is computed again
  // (a lifted limit must not leave a stream paused for the old wait).
  void rate_limits_changed();
  TransferStatus status() const;
  // A growing upload source has `size` bytes now (`ended`: that is its length, journaled
  // before `done`). `done` runs once, on the loop thread.
  virtual void source_grew(std::uint64_t size, bool ended, std::function<void(Result<void>)> done);
  // Still moving bytes (not stopping or stopped).
  bool running() const { return phase_ == Phase::Running || phase_ == Phase::Idle; }

 protected:
  enum class Phase { Idle, Running, Stopping, Done };

  struct PersistJob {
    bool sync_data = true;        // the direction's local data must be durable first
    bool checkpoint = false;      // a periodic checkpoint (downloads hash ahead)
    bool finalize = false;        // the transfer is complete: verify and publish
    bool discard_local = false;   // drop local leftovers (a download's .part)
    bool reset_progress = false;  // erase stale progress records (restart / collapse)
    std::optional<store::OutboxEvent> event;
    std::function<void(Result<void>)> then;
  };

  // What one persist job does besides committing the transfer record and event. Built on the
  // loop thread from a snapshot of the task; the first two run on the blocking pool.
  struct PersistWork {
    // Optional, first: starts writeback of the direction's local data (see PersistGroups).
    std::function<void()> start_flush;
    // Before the commit; adds the direction's records to the batch. An error aborts the job.
    std::function<Result<void>(store::Batch&)> before_commit;
    // Fsync'ed after before_commit succeeded, before the commit: where it renamed a file.
    std::string directory_to_sync;
    // After a successful commit; best effort (never delays the durable offset).
    std::function<void()> after_commit;
    // Back on the loop thread after success, unless a restart happened in between.
    std::function<void()> applied;
    // A finalize's digest: once its before_commit has verified it, what it reported() (when
    // digests are reported) goes into the completed event of the same batch.
    std::shared_ptr<files::PrefixDigest> completed_digest;
  };

  // ---- what a direction provides ----
  // Opens the attempt's local state (credentials_ are set): what bytes_done() counts from.
  virtual Result<void> prepare() = 0;
  // Starts the attempt's exchanges. Failures go through fail_attempt.
  virtual void launch() = 0;
  // Drops every running exchange (no further callbacks reach the task).
  virtual void release_exchanges() = 0;
  // A rate-limit pause is over: let the paused exchanges move again.
  virtual void resume_paused() = 0;
  virtual PersistWork prepare_persist(const PersistJob& job) = 0;
  // Bytes moved so far (written or sent) and how many of them are durable (synced / acked).
  virtual std::uint64_t bytes_done() const = 0;
  virtual std::uint64_t durable_bytes() const = 0;
  // What a periodic checkpoint could make durable now (default: bytes_done()).
  virtual std::uint64_t checkpointable_bytes() const { return bytes_done(); }
  // After a final failure: is what was kept worth a later resume()?
  virtual bool worth_keeping_after(const Error& error) const = 0;
  virtual void on_tick() {}
  // A cancel is about to be journaled: tell the server, if it keeps something (an upload's
  // DELETE), then call `then` (on the loop thread, once, bounded in time).
  virtual void cancel_remote(std::function<void()> then) { then(); }
  // The upload resource once the server named it (empty for downloads).
  virtual std::string resource_url() const { return {}; }
  virtual void fill_status(TransferStatus&) const {}

  // ---- shared machinery for the directions ----
  // Ends the attempt: retry later (Waiting), pause on local errors, or fail for good.
  void fail_attempt(const Error& error, std::optional<std::chrono::milliseconds> retry_after);
  void finish(TransferState state, std::string message, bool discard_local, bool with_event,
              std::optional<Error> error = std::nullopt);
  // Every byte is in place: `job` (finalize set by this) does the direction's publishing; on
  // success the Completed record and event are durable and the task stops.
  void complete(std::string message);
  void persist(PersistJob job);
  void maybe_checkpoint(bool force);
  // Charges `bytes` against the rate limits; true when the caller must pause its exchange
  // (resume_paused() follows once the limit allows).
  bool pace(std::uint64_t bytes);
  void set_state(TransferState state, const std::string& why, const std::optional<Error>& error);
  // A request to `url` as every exchange of this transfer sends it: the spec's headers and
  // the withheld secrets (only on the transfer's own origin unless the config forwards them
  // across origins; the URL's userinfo only when `url` is the transfer's own URL), the HTTP
  // version, the timeouts and the redirect rule of the config.
  protocols::HttpRequest request_to(std::string method, const std::string& url) const;
  bool sends_headers_to(const std::string& url) const;
  // `url` is on another origin and there are headers or secrets it will not be sent.
  bool withholds_headers_from(const std::string& url) const;
  // Every response head: which protocol carries the origin (once per attempt's first head), and
  // the alternative services the answering origin (`url`: the URL that answered) advertises.
  void learn_from_head(const protocols::HttpStream* stream, const protocols::ResponseHeaders& head,
                       const std::string& url);
  void emit(EventKind kind, std::string message);
  std::int64_t unix_now() const { return host_.clock().unix_millis(); }
  // A restart made every queued persist stale: its `applied` is skipped.
  void bump_generation() { ++generation_; }
  // Progress restarted from zero: checkpoints and progress count from here.
  void rebase_progress();

  TaskHost& host_;
  store::TransferRecord record_;
  Credentials credentials_;  // in memory only, never in record_
  std::string origin_;
  Phase phase_ = Phase::Idle;
  std::string protocol_;  // "http/1.1", "h2" once known
  std::optional<std::uint64_t> size_;  // the total size when known
  SteadyTime attempt_started_{};
  std::uint64_t bytes_at_attempt_start_ = 0;

 private:
  void run_next_persist();
  void arm_rate_timer(std::chrono::nanoseconds wait);

  std::deque<PersistJob> persists_;
  bool persist_in_flight_ = false;
  std::uint64_t generation_ = 0;
  std::uint64_t bytes_at_checkpoint_ = 0;
  SteadyTime last_checkpoint_{};
  TransferState state_name_ = TransferState::Queued;  // last state announced (for logs)

  boost::asio::steady_timer rate_timer_;
  bool rate_timer_armed_ = false;
  SteadyTime last_progress_{};
  std::uint64_t bytes_at_progress_ = 0;
  double speed_ = 0;
};

}  // namespace xfer::engine
