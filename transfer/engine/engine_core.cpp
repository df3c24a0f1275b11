#include "transfer/engine/engine_core.h"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "transfer/engine/origin.h"
#include "transfer/engine/secrets.h"
#include "transfer/engine/task_factory.h"
#include "transfer/engine/upload_checks.h"

namespace xfer::engine {
namespace {
// Queued candidates kept in memory; more are paged from the journal as these start.
constexpr std::size_t kWindow = 512;
constexpr std::chrono::milliseconds kTick{100};
// The pool's jobs wait on the disk (fsync), not the CPU: enough threads that 64 small files
// finishing together do not queue behind each other's flushes.
constexpr std::size_t kBlockingThreads = 8;

RetryConfig retry_config(const EngineConfig& c) {
  RetryConfig r;
  r.max_attempts = c.max_attempts;
  r.max_elapsed = c.max_retry_elapsed;
  r.max_wait = c.max_retry_wait;
  r.backoff.base = c.backoff_base;
  r.backoff.cap = c.backoff_cap;
  return r;
}

CircuitBreakerConfig breaker_config(const EngineConfig& c) {
  CircuitBreakerConfig b;
  b.failure_threshold = c.breaker_failures;
  b.cool_down = c.breaker_cooldown;
  return b;
}

RateLimits::Config rate_config(const EngineConfig& c) {
  RateLimits::Config r;
  r.global_rate = c.rate_limit_global;
  r.per_origin_rate = c.rate_limit_per_origin;
  r.per_transfer_rate = c.rate_limit_per_transfer;
  return r;
}

TransferStatus status_from_record(const store::TransferRecord& r,
                                  const std::vector<store::SegmentRecord>& segments,
                                  const std::optional<store::UploadRecord>& upload) {
  TransferStatus st;
  st.id = r.id;
  st.direction = r.direction;
  st.url = r.url;
  st.destination = r.local_path;
  st.state = r.state;
  for (const auto& s : segments) st.durable_bytes += s.offset - s.start;
  st.bytes = st.durable_bytes;
  st.total = r.size;
  if (st.state == TransferState::Completed && r.size) st.bytes = st.durable_bytes = *r.size;
  st.attempts = r.attempt_count;
  if (r.next_attempt_at > 0)
    st.next_attempt_at =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(r.next_attempt_at));
  st.last_error = r.last_error;
  st.segments = segments.empty() ? 1 : static_cast<std::uint32_t>(segments.size());
  st.withheld_secrets = r.withheld_secrets;
  if (upload) {
    st.awaiting_source_end = upload->source_open_ended;
    st.upload_url = upload->resource_url;
    st.bytes = st.durable_bytes =
        st.state == TransferState::Completed && r.size ? *r.size : upload->acked_offset;
  }
  return st;
}
}  // namespace

EngineCore::EngineCore(boost::asio::io_context& io, EngineConfig config, store::Journal& journal,
                       files::FileSystem& fs, const Clock& clock, EventHub& events)
    : io_(io),
      config_(std::move(config)),
      journal_(journal),
      fs_(fs),
      clock_(clock),
      events_(events),
      pool_(io, kBlockingThreads),
      retry_policy_(retry_config(config_)),
      rng_(std::random_device{}()),
      breakers_(breaker_config(config_)),
      rate_limits_(rate_config(config_), clock.now()),
      opened_low_speed_(config_.low_speed_bytes_per_sec),
      scheduler_(config_.max_active),
      tick_(io) {}

EngineCore::~EngineCore() {
  if (transport_) transport_->on_quic_broken({});
  tasks_.clear();
  pool_.join();
}

Result<void> EngineCore::start(const TransportFactory& factory) {
  auto transport = factory(io_, config_);
  if (!transport) return std::unexpected(transport.error());
  transport_ = std::move(*transport);
  // The listener dies with transport_ (finish_shutdown, or this destructor), before this.
  transport_->on_quic_broken([this](const std::string& origin, std::chrono::milliseconds how_long) {
    alternatives_.broken(origin, how_long);
  });
  set_rate_limits(config_.rate_limit_global, config_.rate_limit_per_transfer);  // the watchdog's floor
  deliver_outbox();
  refill_window();
  arm_tick();
  schedule_pump();
  return {};
}

// ---- scheduling ------------------------------------------------------------------------------

bool EngineCore::known(TransferId id) const {
  return tasks_.contains(id) || scheduler_.contains(id) || waiting_index_.contains(id);
}

void EngineCore::admit(TransferId id, std::int32_t priority, const std::string& origin) {
  if (shutting_down_ || known(id)) return;
  if (scheduler_.queued() < kWindow) {
    scheduler_.add(Candidate{id, priority, origin, id});
  } else {
    journal_may_have_more_ = true;  // paged in later by refill_window
  }
  schedule_pump();
}

void EngineCore::refill_window() {
  if (!journal_may_have_more_ || scheduler_.queued() >= kWindow / 2) return;
  bool filled = false;
  const auto now_ms = clock_.unix_millis();
  auto scanned = journal_.scan_unfinished([&](const store::TransferRecord& r) {
    if (known(r.id) || r.state == TransferState::Paused) return true;
    Candidate c{r.id, r.priority, origin_of(r.url), r.id};
    if (r.state == TransferState::Waiting && r.next_attempt_at > now_ms) {
      waiting_index_[r.id] = waiting_.emplace(r.next_attempt_at, c);
      return true;
    }
    scheduler_.add(c);
    if (scheduler_.queued() >= kWindow) {
      filled = true;
      return false;
    }
    return true;
  });
  if (!scanned) {
    spdlog::error("scanning the journal failed: {}", scanned.error().describe());
    return;
  }
  journal_may_have_more_ = filled;
}

bool EngineCore::origin_ready(const std::string& origin) {
  const auto active = scheduler_.active(origin);
  const auto limit = multiplexed_origins_.contains(origin) ? config_.max_streams_per_origin
                                                           : config_.max_active_per_origin;
  if (active >= limit) return false;
  const auto state = breakers_.state(origin, clock_.now());
  if (state == BreakerState::Open) return false;
  if (state == BreakerState::HalfOpen && active > 0) return false;
  return true;
}

void EngineCore::schedule_pump() {
  if (pump_scheduled_) return;
  pump_scheduled_ = true;
  boost::asio::post(io_, [this] {
    pump_scheduled_ = false;
    pump();
  });
}

void EngineCore::pump() {
  if (shutting_down_ || !transport_) return;
  refill_window();
  for (;;) {
    auto next = scheduler_.next([this](const std::string& o) { return origin_ready(o); });
    if (!next) break;
    if (!breakers_.allow(next->origin, clock_.now())) {
      scheduler_.add(*next);
      break;
    }
    start_task(*next);
    if (scheduler_.queued() < kWindow / 2) refill_window();
  }
}

void EngineCore::start_task(const Candidate& c) {
  auto record = journal_.get_transfer(c.id);
  if (!record || !*record || !is_unfinished((*record)->state) ||
      (*record)->state == TransferState::Paused) {
    if (!record) spdlog::error("transfer {}: {}", c.id, record.error().describe());
    return;
  }
  // Two transfers to one destination would share a .part: the later one waits its turn.
  const auto exclusive = exclusive_path(**record);
  if (exclusive && active_destinations_.contains(*exclusive)) {
    waiting_index_[c.id] = waiting_.emplace(clock_.unix_millis() + 200, c);
    return;
  }
  alternatives_.load(origin_of((*record)->url), *transport_);
  auto made = make_task(*this, journal_, std::move(**record));
  if (!made) {
    spdlog::error("transfer {}: {}", c.id, made.error().describe());
    return;
  }
  auto task = std::move(*made);
  tasks_[c.id] = task;
  if (exclusive) active_destinations_.insert(*exclusive);
  scheduler_.started(c.origin);
  task->start();
}

void EngineCore::task_stopped(TransferId id, TransferState state, bool outbox_changed) {
  // Deferred: we are inside the task's own completion.
  boost::asio::post(io_, [this, id, state, outbox_changed] {
    const auto it = tasks_.find(id);
    if (it == tasks_.end()) return;
    std::shared_ptr<TaskCore> task = std::move(it->second);
    tasks_.erase(it);
    if (const auto exclusive = exclusive_path(task->record())) active_destinations_.erase(*exclusive);
    scheduler_.finished(task->origin());
    rate_limits_.forget_transfer(id);
    if (is_terminal(state)) forget_credentials(id);
    if (const auto end = pending_ends_.find(id); end != pending_ends_.end()) {
      auto [size, done] = std::move(end->second);
      pending_ends_.erase(end);
      done(is_terminal(state) ? fail(ErrorCategory::InvalidArgument,
                                     fmt::format("transfer {} has finished", id))
                              : journal_source_end(id, size));
    }
    if (is_terminal(state)) announced_.erase(id);
    const auto& record = task->record();
    if (state == TransferState::Waiting && !shutting_down_) {
      Candidate c{id, record.priority, task->origin(), id};
      waiting_index_[id] = waiting_.emplace(record.next_attempt_at, c);
    }
    if (const auto req = after_stop_.find(id); req != after_stop_.end()) {
      const auto wanted = req->second;
      after_stop_.erase(req);
      if (!is_terminal(state)) {
        if (wanted == TransferState::Cancelled) (void)cancel(id);
        if (wanted == TransferState::Paused) (void)pause(id);
        if (wanted == TransferState::Queued) (void)resume(id);
      }
    }
    if (outbox_changed) deliver_outbox();
    if (shutting_down_ && tasks_.empty()) {
      finish_shutdown();
      return;
    }
    schedule_pump();
  });
}

std::shared_ptr<const Credentials> EngineCore::intern(Credentials credentials) {
  std::string key = credentials.url_userinfo;
  for (const auto& [name, value] : credentials.headers) key += '\0' + name + '\0' + value;
  auto& slot = interned_credentials_[key];
  if (auto shared = slot.lock()) return shared;
  auto shared = std::make_shared<const Credentials>(std::move(credentials));
  slot = shared;
  return shared;
}

void EngineCore::forget_credentials(TransferId id) {
  const auto it = credentials_.find(id);
  if (it == credentials_.end()) return;
  const bool last = it->second.use_count() == 1;
  credentials_.erase(it);
  if (!last) return;
  std::erase_if(interned_credentials_, [](const auto& entry) { return entry.second.expired(); });
}

void EngineCore::remember_credentials(TransferId id, Credentials credentials) {
  credentials_[id] = intern(std::move(credentials));
}

Result<Credentials> EngineCore::credentials_for(const store::TransferRecord& record) {
  if (record.withheld_secrets.empty()) return Credentials{};
  if (const auto it = credentials_.find(record.id); it != credentials_.end()) return *it->second;
  std::vector<std::string> missing = record.withheld_secrets;
  if (config_.credentials) {
    CredentialRequest request{record.id, record.url, record.withheld_secrets};
    if (auto supplied = config_.credentials(request)) {
      if (auto picked = pick_credentials(record.withheld_secrets, *supplied, missing)) {
        credentials_[record.id] = intern(*picked);
        return *picked;
      }
    }
  }
  std::string names;
  for (const auto& n : missing) names += (names.empty() ? "" : ", ") + n;
  return fail(ErrorCategory::InvalidArgument,
              fmt::format("transfer {} needs the secrets it was started with, which are never "
                          "journaled: {} (give them again, e.g. `xfer resume -H 'Name: value'` "
                          "or `--user USER:PASSWORD`)", record.id, names));
}

void EngineCore::drop_waiting(TransferId id) {
  if (const auto it = waiting_index_.find(id); it != waiting_index_.end()) {
    waiting_.erase(it->second);
    waiting_index_.erase(it);
  }
}

// ---- periodic work ---------------------------------------------------------------------------

void EngineCore::arm_tick() {
  tick_.expires_after(kTick);
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || shutting_down_) return;
    on_tick();
    arm_tick();
  });
}

void EngineCore::on_tick() {
  for (auto& [id, task] : tasks_) task->tick();
  const auto now_ms = clock_.unix_millis();
  while (!waiting_.empty() && waiting_.begin()->first <= now_ms) {
    const Candidate c = waiting_.begin()->second;
    waiting_index_.erase(c.id);
    waiting_.erase(waiting_.begin());
    scheduler_.add(c);
  }
  breakers_.prune(clock_.now());
  pump();
}

// ---- policies --------------------------------------------------------------------------------

std::chrono::nanoseconds EngineCore::charge_rate(const std::string& origin, TransferId id,
                                                 std::uint64_t bytes) {
  if (config_.rate_limit_global == 0 && config_.rate_limit_per_origin == 0 &&
      config_.rate_limit_per_transfer == 0)
    return std::chrono::nanoseconds(0);
  if (bytes == 0) return rate_limits_.wait(origin, id, clock_.now());
  return rate_limits_.charge(origin, id, bytes, clock_.now());
}

void EngineCore::attempt_outcome(const std::string& origin, bool success,
                                 const std::string& protocol) {
  if (success)
    breakers_.record_success(origin, clock_.now());
  else
    breakers_.record_failure(origin, clock_.now());
  protocol_learned(origin, protocol);
}

void EngineCore::protocol_learned(const std::string& origin, const std::string& protocol) {
  if ((protocol == "h2" || protocol == "h3") && multiplexed_origins_.insert(origin).second)
    schedule_pump();  // the origin can take many more streams on one connection
}

void EngineCore::set_rate_limits(std::uint64_t global, std::uint64_t per_transfer) {
  const auto now = clock_.now();
  config_.rate_limit_global = global;
  config_.rate_limit_per_transfer = per_transfer;
  rate_limits_.set_global_rate(global, now);
  rate_limits_.set_default_transfer_rate(per_transfer, now);
  // The low-speed watchdog must not take the limit itself for a stalled connection (it applies
  // from each transfer's next attempt).
  // The whole engine's limit is shared by up to max_active transfers.
  std::uint64_t floor = opened_low_speed_;
  const std::uint64_t sharing = std::max<std::uint64_t>(1, config_.max_active);
  if (global != 0) floor = std::min<std::uint64_t>(floor, std::max<std::uint64_t>(1, global / (4 * sharing)));
  if (per_transfer != 0) floor = std::min<std::uint64_t>(floor, std::max<std::uint64_t>(1, per_transfer / 4));
  config_.low_speed_bytes_per_sec = static_cast<std::uint32_t>(floor);
  for (auto& [id, task] : tasks_) task->rate_limits_changed();
}

// ---- events ----------------------------------------------------------------------------------

void EngineCore::deliver_outbox() {
  auto pending = journal_.pending_events_after(last_delivered_seq_);
  if (!pending) {
    spdlog::error("reading the outbox failed: {}", pending.error().describe());
    return;
  }
  for (const auto& e : *pending) {
    if (e.seq <= last_delivered_seq_) continue;
    last_delivered_seq_ = e.seq;
    Event event;
    event.kind = e.kind;
    event.id = e.transfer_id;
    event.seq = e.seq;
    event.state = event.kind == EventKind::Completed   ? TransferState::Completed
                  : event.kind == EventKind::Cancelled ? TransferState::Cancelled
                                                       : TransferState::Failed;
    event.message = e.message;
    event.error = e.error;
    event.digest = e.digest;
    if (auto r = journal_.get_transfer(e.transfer_id); r && *r) {
      event.direction = (*r)->direction;
      event.destination = (*r)->local_path;
      if (event.direction == Direction::Upload) {
        if (auto u = journal_.get_upload(e.transfer_id); u && *u) event.upload_url = (*u)->resource_url;
      }
      event.total = (*r)->size;
      if (event.kind == EventKind::Completed && (*r)->size) event.bytes = *(*r)->size;
    }
    events_.emit(std::move(event));
  }
}

// ---- app requests ----------------------------------------------------------------------------

Result<void> EngineCore::set_journal_state(store::TransferRecord record, TransferState state,
                                           const std::string& why) {
  record.state = state;
  record.updated_at = clock_.unix_millis();
  if (state == TransferState::Queued) {
    record.attempt_count = 0;
    record.next_attempt_at = 0;
  }
  store::Batch batch;
  batch.put_transfer(record);
  if (auto r = journal_.commit(std::move(batch), store::Durability::Synced); !r) return r;
  events_.emit(make_event(EventKind::StateChanged, record.id, 0, state, 0, record.size, why));
  return {};
}

Result<void> EngineCore::pause(TransferId id) {
  if (const auto it = tasks_.find(id); it != tasks_.end()) {
    if (it->second->running())
      it->second->stop(TransferState::Paused, "paused");
    else
      after_stop_[id] = TransferState::Paused;
    return {};
  }
  auto record = journal_.get_transfer(id);
  if (!record) return std::unexpected(record.error());
  if (!*record) return fail(ErrorCategory::NotFound, fmt::format("no transfer {}", id));
  if (!is_unfinished((*record)->state))
    return fail(ErrorCategory::InvalidArgument, fmt::format("transfer {} has finished", id));
  if ((*record)->state == TransferState::Paused) return {};
  scheduler_.remove(id);
  drop_waiting(id);
  store::TransferRecord paused = **record;
  record_stop_reason(paused, TransferState::Paused, std::nullopt);
  return set_journal_state(std::move(paused), TransferState::Paused, "paused");
}

Result<void> EngineCore::resume(TransferId id) {
  if (tasks_.contains(id)) {
    if (!tasks_[id]->running()) after_stop_[id] = TransferState::Queued;  // once it has stopped
    return {};
  }
  auto record = journal_.get_transfer(id);
  if (!record) return std::unexpected(record.error());
  if (!*record) return fail(ErrorCategory::NotFound, fmt::format("no transfer {}", id));
  const auto state = (*record)->state;
  if (state == TransferState::Completed || state == TransferState::Cancelled)
    return fail(ErrorCategory::InvalidArgument, fmt::format("transfer {} has finished", id));
  if (state == TransferState::Failed && !kept_for_resume(fs_, journal_, **record))
    return fail(ErrorCategory::InvalidArgument,
                fmt::format("transfer {} failed and kept nothing to resume", id));
  if (state != TransferState::Queued) {
    drop_waiting(id);
    if (auto r = set_journal_state(**record, TransferState::Queued, "resumed"); !r) return r;
  }
  admit(id, (*record)->priority, origin_of((*record)->url));
  return {};
}

Result<void> EngineCore::cancel(TransferId id) {
  if (const auto it = tasks_.find(id); it != tasks_.end()) {
    if (it->second->running())
      it->second->stop(TransferState::Cancelled, "cancelled");
    else
      after_stop_[id] = TransferState::Cancelled;
    return {};
  }
  auto record = journal_.get_transfer(id);
  if (!record) return std::unexpected(record.error());
  if (!*record) return fail(ErrorCategory::NotFound, fmt::format("no transfer {}", id));
  if (!is_unfinished((*record)->state) && (*record)->state != TransferState::Failed)
    return fail(ErrorCategory::InvalidArgument, fmt::format("transfer {} has finished", id));
  scheduler_.remove(id);
  drop_waiting(id);
  if ((*record)->direction == Direction::Upload && kept_for_resume(fs_, journal_, **record)) {
    // Its resource on the server is withdrawn first (DELETE), by a task that sends only that.
    auto made = make_task(*this, journal_, std::move(**record));
    if (!made) return std::unexpected(made.error());
    auto task = std::move(*made);
    tasks_[id] = task;
    scheduler_.started(task->origin());
    task->cancel_idle();
    return {};
  }
  if (auto r = discard_local(fs_, **record); !r) return r;
  store::TransferRecord rec = **record;
  rec.state = TransferState::Cancelled;
  rec.updated_at = clock_.unix_millis();
  store::Batch batch;
  batch.erase_transfer(id);
  batch.put_transfer(rec);
  store::OutboxEvent event;
  event.transfer_id = id;
  event.kind = EventKind::Cancelled;
  event.message = "cancelled";
  event.created_at = rec.updated_at;
  batch.add_event(event);
  if (auto r = journal_.commit(std::move(batch), store::Durability::Synced); !r) return r;
  forget_credentials(id);
  events_.emit(make_event(EventKind::StateChanged, id, 0, TransferState::Cancelled, 0, rec.size,
                     "cancelled"));
  deliver_outbox();
  return {};
}

void EngineCore::source_grew(TransferId id, std::uint64_t size, bool ended,
                             std::function<void(Result<void>)> done) {
  const auto it = tasks_.find(id);
  if (it != tasks_.end() && it->second->running()) {
    // The task judges the announcement; only an accepted one is remembered.
    it->second->source_grew(size, ended, [this, id, size, done = std::move(done)](Result<void> r) {
      if (r) {
        auto& announced = announced_[id];
        announced = std::max(announced, size);
      }
      done(std::move(r));
    });
    return;
  }
  auto& announced = announced_[id];
  if (it != tasks_.end()) {
    // Stopping: its last checkpoint must not overwrite the end; journaled after it.
    if (size < announced) {
      done(fail(ErrorCategory::InvalidArgument,
                fmt::format("transfer {}: a growing source only grows ({} bytes announced, then {})",
                            id, announced, size)));
      return;
    }
    if (!ended) {
      announced = size;
      done({});
      return;
    }
    if (pending_ends_.contains(id)) {
      done(fail(ErrorCategory::InvalidArgument, fmt::format("transfer {}: its source has already ended", id)));
      return;
    }
    pending_ends_.emplace(id, std::make_pair(size, std::move(done)));
    return;
  }
  auto upload = journal_.get_upload(id);
  if (!upload) return done(std::unexpected(upload.error()));
  auto record = journal_.get_transfer(id);
  if (!record) return done(std::unexpected(record.error()));
  if (!*record || !*upload) return done(fail(ErrorCategory::NotFound, fmt::format("no upload {}", id)));
  if (!is_unfinished((*record)->state) && (*record)->state != TransferState::Failed)
    return done(fail(ErrorCategory::InvalidArgument, fmt::format("transfer {} has finished", id)));
  if (!(*upload)->source_open_ended)
    return done(fail(ErrorCategory::InvalidArgument,
                     fmt::format("transfer {}: its source is not growing (its length is known)", id)));
  const std::uint64_t before = std::max(announced, (*upload)->source_size);
  if (size < before)
    return done(fail(ErrorCategory::InvalidArgument,
                     fmt::format("transfer {}: a growing source only grows ({} bytes announced, then {})",
                                 id, before, size)));
  if (!ended) {
    announced = size;
    return done({});
  }
  done(journal_source_end(id, size));
}

Result<void> EngineCore::journal_source_end(TransferId id, std::uint64_t size) {
  auto upload = journal_.get_upload(id);
  if (!upload) return std::unexpected(upload.error());
  auto record = journal_.get_transfer(id);
  if (!record) return std::unexpected(record.error());
  if (!*record || !*upload) return fail(ErrorCategory::NotFound, fmt::format("no upload {}", id));
  if (!(*upload)->source_open_ended)
    return fail(ErrorCategory::InvalidArgument, fmt::format("transfer {}: its source has already ended", id));
  store::UploadRecord u = **upload;
  if (auto r = end_growing_source(fs_, (*record)->local_path, size, u); !r) return r;
  store::TransferRecord t = **record;
  t.size = size;
  t.updated_at = clock_.unix_millis();
  store::Batch batch;
  batch.put_upload(u);
  batch.put_transfer(t);
  if (auto r = journal_.commit(std::move(batch), store::Durability::Synced); !r) return r;
  announced_.erase(id);
  return {};
}

std::uint64_t EngineCore::announced_source_size(TransferId id) const {
  const auto it = announced_.find(id);
  return it == announced_.end() ? 0 : it->second;
}

Result<TransferStatus> EngineCore::status(TransferId id) {
  if (const auto it = tasks_.find(id); it != tasks_.end()) return it->second->status();
  auto record = journal_.get_transfer(id);
  if (!record) return std::unexpected(record.error());
  if (!*record) return fail(ErrorCategory::NotFound, fmt::format("no transfer {}", id));
  auto segments = journal_.segments(id);
  if (!segments) return std::unexpected(segments.error());
  std::optional<store::UploadRecord> upload;
  if ((*record)->direction == Direction::Upload) {
    auto found = journal_.get_upload(id);
    if (!found) return std::unexpected(found.error());
    upload = std::move(*found);
  }
  return status_from_record(**record, *segments, upload);
}

std::vector<TransferStatus> EngineCore::in_memory() {
  std::vector<TransferStatus> out;
  for (const auto& [id, task] : tasks_) out.push_back(task->status());
  return out;
}

// ---- shutdown --------------------------------------------------------------------------------

void EngineCore::shutdown(std::function<void()> done) {
  if (shutting_down_) {
    done();
    return;
  }
  shutting_down_ = true;
  shutdown_done_ = std::move(done);
  tick_.cancel();
  if (tasks_.empty()) {
    finish_shutdown();
    return;
  }
  // Snapshot: stop() may finish synchronously for idle tasks.
  std::vector<std::shared_ptr<TaskCore>> tasks;
  for (auto& [id, task] : tasks_) tasks.push_back(task);
  for (auto& task : tasks)
    if (task->running()) task->stop(TransferState::Queued, "engine shutting down");
}

void EngineCore::finish_shutdown() {
  if (transport_) transport_->on_quic_broken({});
  transport_.reset();
  for (auto& [id, end] : pending_ends_)
    end.second(fail(ErrorCategory::InvalidArgument, "the engine has been shut down"));
  pending_ends_.clear();
  if (shutdown_done_) {
    auto done = std::move(shutdown_done_);
    shutdown_done_ = nullptr;
    done();
  }
}

}  // namespace xfer::engine
