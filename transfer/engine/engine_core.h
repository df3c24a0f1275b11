// EngineCore: everything the engine does, on its loop thread. It owns the transport, the
// scheduler, the policies (retry, circuit breakers, rate limits) and the tasks (TaskCore) of the
// active transfers; queued, waiting and paused transfers live in the journal and only a small
// window of queued candidates is kept in memory (paged with Journal::scan_unfinished).
// The public Engine (engine.cpp) marshals calls onto the loop thread and waits for them.
//
// Threading: every method runs on the loop thread, except where noted.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>

#include <boost/asio/steady_timer.hpp>

#include <xfer/download_spec.h>
#include <xfer/engine_config.h>
#include <xfer/transfer_status.h>

#include "transfer/engine/circuit_breaker.h"
#include "transfer/engine/event_hub.h"
#include "transfer/engine/rate_limiter.h"
#include "transfer/engine/scheduler.h"
#include "transfer/engine/task_core.h"
#include "transfer/engine/alternatives_memory.h"
#include "transfer/engine/task_host.h"

namespace xfer::engine {

using TransportFactory = std::function<Result<std::unique_ptr<protocols::Transport>>(
    boost::asio::io_context&, const EngineConfig&)>;

class EngineCore final : public TaskHost {
 public:
  EngineCore(boost::asio::io_context& io, EngineConfig config, store::Journal& journal,
             files::FileSystem& fs, const Clock& clock, EventHub& events);
  ~EngineCore() override;

  // Creates the transport, redelivers unacknowledged terminal events, resumes unfinished work.
  Result<void> start(const TransportFactory& factory);
  // A transfer already journaled as Queued (by Engine::enqueue) becomes a candidate.
  void admit(TransferId id, std::int32_t priority, const std::string& origin);
  Result<void> pause(TransferId id);
  Result<void> resume(TransferId id);
  Result<void> cancel(TransferId id);
  Result<TransferStatus> status(TransferId id);
  // A growing upload source has `size` bytes (`ended`: that is its length, journaled before
  // `done`). `done` runs once, on the loop thread.
  void source_grew(TransferId id, std::uint64_t size, bool ended,
                   std::function<void(Result<void>)> done);
  std::vector<TransferStatus> in_memory();
  // New bandwidth limits (bytes per second, 0 = none) for every transfer, running ones included.
  void set_rate_limits(std::uint64_t global, std::uint64_t per_transfer);
  // Stops every task at a checkpoint; `done` runs on the loop thread once all are durable and
  // the transport is gone.
  void shutdown(std::function<void()> done);

  // TaskHost.
  const EngineConfig& config() const override { return config_; }
  const Clock& clock() const override { return clock_; }
  boost::asio::io_context& io() override { return io_; }
  protocols::Transport& transport() override { return *transport_; }
  files::FileSystem& file_system() override { return fs_; }
  store::Journal& journal() override { return journal_; }
  BlockingPool& pool() override { return pool_; }
  PersistGroups& persist_groups() override { return persist_groups_; }
  const RetryPolicy& retry_policy() const override { return retry_policy_; }
  std::mt19937_64& rng() override { return rng_; }
  Result<Credentials> credentials_for(const store::TransferRecord& record) override;
  // Secrets of a transfer this process enqueued (kept until it ends).
  void remember_credentials(TransferId id, Credentials credentials);
  void emit(Event event) override { events_.emit(std::move(event)); }
  std::chrono::nanoseconds charge_rate(const std::string& origin, TransferId id,
                                       std::uint64_t bytes) override;
  void attempt_outcome(const std::string& origin, bool success,
                       const std::string& protocol) override;
  void protocol_learned(const std::string& origin, const std::string& protocol) override;
  void alt_svc_seen(const std::string& origin, const std::string& value, std::uint64_t age_seconds) override {
    alternatives_.seen(origin, value, age_seconds, *transport_);
  }
  std::uint64_t announced_source_size(TransferId id) const override;
  void task_stopped(TransferId id, TransferState state, bool outbox_changed) override;

 private:
  void pump();
  void schedule_pump();
  void refill_window();
  bool origin_ready(const std::string& origin);
  void start_task(const Candidate& candidate);
  void on_tick();
  void arm_tick();
  void deliver_outbox();
  Result<void> set_journal_state(store::TransferRecord record, TransferState state,
                                 const std::string& why);
  bool known(TransferId id) const;
  // The end of a growing source, for a transfer no task runs: checked and journaled, synced.
  Result<void> journal_source_end(TransferId id, std::uint64_t size);
  void drop_waiting(TransferId id);
  void finish_shutdown();

  boost::asio::io_context& io_;
  EngineConfig config_;
  store::Journal& journal_;
  files::FileSystem& fs_;
  const Clock& clock_;
  EventHub& events_;
  BlockingPool pool_;
  PersistGroups persist_groups_{io_, pool_, journal_, fs_};
  std::unique_ptr<protocols::Transport> transport_;
  RetryPolicy retry_policy_;
  std::mt19937_64 rng_;
  CircuitBreakers breakers_;
  RateLimits rate_limits_;
  const std::uint32_t opened_low_speed_;  // the watchdog's rate before any limit lowered it
  Scheduler scheduler_;

  std::unordered_map<TransferId, std::shared_ptr<TaskCore>> tasks_;
  std::multimap<std::int64_t, Candidate> waiting_;  // next_attempt_at (unix ms) → candidate
  std::unordered_map<TransferId, std::multimap<std::int64_t, Candidate>::iterator> waiting_index_;
  std::unordered_map<TransferId, TransferState> after_stop_;  // user requests while stopping
  std::set<std::string> multiplexed_origins_;
  AlternativesMemory alternatives_{journal_, clock_};
  std::set<std::string> active_destinations_;
  // Secrets of queued transfers must live in memory (never in the journal); identical ones (a
  // batch enqueued with one -H) share one copy, so 100,000 queued cost a pointer each.
  std::unordered_map<TransferId, std::shared_ptr<const Credentials>> credentials_;
  std::map<std::string, std::weak_ptr<const Credentials>> interned_credentials_;
  std::shared_ptr<const Credentials> intern(Credentials credentials);
  void forget_credentials(TransferId id);
  // Growing upload sources: what was announced (this process), and ends announced while the
  // task was stopping (journaled once it has stopped).
  std::unordered_map<TransferId, std::uint64_t> announced_;
  std::unordered_map<TransferId, std::pair<std::uint64_t, std::function<void(Result<void>)>>> pending_ends_;
  bool journal_may_have_more_ = true;
  bool pump_scheduled_ = false;
  std::uint64_t last_delivered_seq_ = 0;

  boost::asio::steady_timer tick_;
  bool shutting_down_ = false;
  std::function<void()> shutdown_done_;
};

}  // namespace xfer::engine
