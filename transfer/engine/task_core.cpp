#include "transfer/engine/task_core.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/ascii.h"
#include "protocols/http/digest_fields.h"
#include "transfer/engine/event_hub.h"
#include "transfer/engine/origin.h"
#include "transfer/engine/secrets.h"

namespace xfer::engine {

void record_stop_reason(store::TransferRecord& record, TransferState target,
                        const std::optional<Error>& error) {
  if (error)
    record.last_error = error;
  else if (target == TransferState::Paused)
    record.last_error.reset();
}

TaskCore::TaskCore(TaskHost& host, store::TransferRecord record)
    : host_(host),
      record_(std::move(record)),
      origin_(origin_of(record_.url)),
      rate_timer_(host.io()) {
  state_name_ = record_.state;
  size_ = record_.size;
}

TaskCore::~TaskCore() { rate_timer_.cancel(); }

void TaskCore::start() {
  phase_ = Phase::Running;
  record_.attempt_count += 1;
  record_.next_attempt_at = 0;
  set_state(TransferState::Active, fmt::format("attempt {}", record_.attempt_count), std::nullopt);
  last_checkpoint_ = host_.clock().now();
  attempt_started_ = last_checkpoint_;
  if (auto secrets = host_.credentials_for(record_); !secrets) {
    // Not a failure of the transfer: it keeps everything and continues once they are given.
    stop(TransferState::Paused, secrets.error().describe(), secrets.error());
    return;
  } else {
    credentials_ = std::move(*secrets);
  }
  if (auto prepared = prepare(); !prepared) {
    fail_attempt(prepared.error(), std::nullopt);
    return;
  }
  if (phase_ != Phase::Running) return;
  bytes_at_attempt_start_ = bytes_done();
  bytes_at_checkpoint_ = checkpointable_bytes();
  bytes_at_progress_ = bytes_at_attempt_start_;
  last_progress_ = last_checkpoint_;
  launch();
}

void TaskCore::rebase_progress() {
  bytes_at_checkpoint_ = 0;
  bytes_at_progress_ = 0;
}

void TaskCore::stop(TransferState target, std::string reason, std::optional<Error> error) {
  if (phase_ == Phase::Stopping || phase_ == Phase::Done) return;
  const bool was_running = phase_ == Phase::Running;
  phase_ = Phase::Stopping;
  release_exchanges();
  rate_timer_.cancel();
  if (target == TransferState::Cancelled) {
    if (reason.empty()) reason = "cancelled";
    cancel_remote([weak = weak_from_this(), reason] {
      if (auto self = weak.lock()) self->finish(TransferState::Cancelled, reason, true, true);
    });
    return;
  }
  record_stop_reason(record_, target, error);
  set_state(target, reason, error);
  PersistJob job;
  job.sync_data = was_running;
  job.then = [this, target](Result<void>) {
    phase_ = Phase::Done;
    host_.task_stopped(record_.id, target, false);
  };
  persist(std::move(job));
}

void TaskCore::cancel_idle() {
  // Without its secrets the server refuses the DELETE: it is tried anyway (bounded), since a
  // resource left behind only expires.
  if (auto secrets = host_.credentials_for(record_)) credentials_ = std::move(*secrets);
  phase_ = Phase::Stopping;
  cancel_remote([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->finish(TransferState::Cancelled, "cancelled", true, true);
  });
}

void TaskCore::finish(TransferState state, std::string message, bool discard_local,
                      bool with_event, std::optional<Error> error) {
  phase_ = Phase::Stopping;
  release_exchanges();
  rate_timer_.cancel();
  if (state == TransferState::Failed) record_.last_error = error;
  set_state(state, message, error);
  PersistJob job;
  job.sync_data = !discard_local;
  job.discard_local = discard_local;
  if (with_event) {
    store::OutboxEvent event;
    event.transfer_id = record_.id;
    event.kind = state == TransferState::Completed ? EventKind::Completed
                 : state == TransferState::Cancelled ? EventKind::Cancelled
                                                     : EventKind::Failed;
    event.message = message;
    event.error = std::move(error);
    event.created_at = unix_now();
    job.event = std::move(event);
  }
  job.then = [this, state, with_event](Result<void> r) {
    if (!r)
      spdlog::error("transfer {}: journaling {} failed: {}", record_.id, to_string(state),
                    r.error().describe());
    phase_ = Phase::Done;
    host_.task_stopped(record_.id, state, with_event && r.has_value());
  };
  persist(std::move(job));
}

void TaskCore::complete(std::string message) {
  phase_ = Phase::Stopping;
  release_exchanges();
  rate_timer_.cancel();
  if (!size_) size_ = bytes_done();
  spdlog::debug("transfer {}: all {} bytes moved, finalizing", record_.id, *size_);
  const auto previous = record_.state;
  record_.state = TransferState::Completed;
  record_.size = size_;
  record_.next_attempt_at = 0;
  record_.last_error.reset();
  store::OutboxEvent event;
  event.transfer_id = record_.id;
  event.kind = EventKind::Completed;
  event.message = std::move(message);
  event.created_at = unix_now();
  PersistJob job;
  job.finalize = true;
  job.event = std::move(event);
  job.then = [this, previous](Result<void> r) {
    if (r) {
      host_.attempt_outcome(origin_, true, protocol_);
      set_state(TransferState::Completed, record_.direction == Direction::Download
                                              ? "verified and in place"
                                              : "the server has every byte",
                std::nullopt);
      phase_ = Phase::Done;
      host_.task_stopped(record_.id, TransferState::Completed, true);
      return;
    }
    record_.state = previous;
    const Error& e = r.error();
    spdlog::debug("transfer {}: finalize failed: {}", record_.id, e.describe());
    if (e.category() == ErrorCategory::LocalIo || e.category() == ErrorCategory::DiskFull) {
      phase_ = Phase::Running;
      stop(TransferState::Paused, e.describe(), e);
      return;
    }
    if (e.category() == ErrorCategory::Protocol && e.retryable()) {
      phase_ = Phase::Running;
      fail_attempt(e, std::nullopt);
      return;
    }
    // Wrong bytes (digest mismatch) are never kept: nothing reaches the destination.
    finish(TransferState::Failed, e.describe(), true, true, e);
  };
  persist(std::move(job));
}

void TaskCore::set_state(TransferState state, const std::string& why,
                         const std::optional<Error>& error) {
  const auto old = state_name_;
  state_name_ = state;
  record_.state = state;
  spdlog::debug("transfer {}: {} -> {} ({})", record_.id, to_string(old), to_string(state), why);
  Event event = make_event(EventKind::StateChanged, record_.id, 0, state, bytes_done(), size_, why);
  event.error = error;
  event.direction = record_.direction;
  event.upload_url = resource_url();
  host_.emit(std::move(event));
}

protocols::HttpRequest TaskCore::request_to(std::string method, const std::string& url) const {
  protocols::HttpRequest request;
  request.method = std::move(method);
  const auto& cfg = host_.config();
  request.url = url == record_.url ? with_userinfo(url, credentials_.url_userinfo) : url;
  // The spec's headers were given for its URL's origin (design.md invariant 7): an upload
  // resource elsewhere gets them only when the user trusts other origins, as redirects do.
  if (sends_headers_to(url)) {
    request.headers = record_.request_headers;
    request.headers.insert(request.headers.end(), credentials_.headers.begin(),
                           credentials_.headers.end());
  }
  request.version = record_.protocol == HttpVersion::Any ? cfg.protocol : record_.protocol;
  request.connect_timeout_ms = cfg.connect_timeout_ms;
  request.forward_headers_across_origins = cfg.forward_headers_across_origins;
  request.low_speed_bytes_per_sec = cfg.low_speed_bytes_per_sec;
  request.low_speed_seconds = cfg.low_speed_seconds;
  return request;
}

bool TaskCore::sends_headers_to(const std::string& url) const {
  return host_.config().forward_headers_across_origins || origin_of(url) == origin_;
}

void TaskCore::learn_from_head(const protocols::HttpStream* stream, const protocols::ResponseHeaders& head,
                               const std::string& url) {
  if (stream && protocol_.empty()) {
    protocol_ = stream->negotiated_protocol();
    if (!protocol_.empty()) host_.protocol_learned(origin_, protocol_);
  }
  // Every Alt-Svc field line counts (RFC 9110 §5.3: they combine as one comma-separated list).
  std::string alt_svc;
  for (const auto& [name, value] : head.fields)
    if (ascii_iequals(name, "alt-svc")) alt_svc += (alt_svc.empty() ? "" : ", ") + value;
  if (alt_svc.empty()) return;
  // A response served from a cache is Age seconds old: its alternatives' max-age started then
  // (RFC 7838 §3.1). A malformed Age counts as none.
  std::uint64_t age = 0;
  if (const std::string* text = head.find("age")) {
    const auto* end = text->data() + text->size();
    if (auto [p, ec] = std::from_chars(text->data(), end, age); ec != std::errc() || p != end) age = 0;
  }
  host_.alt_svc_seen(origin_of(head.url.empty() ? url : head.url), alt_svc, age);
}

bool TaskCore::withholds_headers_from(const std::string& url) const {
  return !sends_headers_to(url) &&
         (!record_.request_headers.empty() || !credentials_.headers.empty());
}

void TaskCore::emit(EventKind kind, std::string message) {
  Event event = make_event(kind, record_.id, 0, TransferState::Active, bytes_done(), size_,
                           std::move(message));
  event.direction = record_.direction;
  event.upload_url = resource_url();
  host_.emit(std::move(event));
}

void TaskCore::fail_attempt(const Error& error,
                            std::optional<std::chrono::milliseconds> retry_after) {
  if (phase_ != Phase::Running) return;
  phase_ = Phase::Stopping;
  release_exchanges();
  const bool remote = error.category() == ErrorCategory::Network ||
                      error.category() == ErrorCategory::Tls ||
                      (error.category() == ErrorCategory::HttpStatus && error.retryable());
  // An attempt that moved bytes proves the origin alive and the transfer progressing: it does
  // not trip the breaker and starts the attempt budget over (a long transfer over a flaky link
  // keeps going while it progresses; a stuck one still runs out of attempts).
  const bool progressed = durable_bytes() > bytes_at_attempt_start_ ||
                          bytes_done() > bytes_at_attempt_start_;
  if (remote) host_.attempt_outcome(origin_, progressed, protocol_);
  if (progressed) record_.attempt_count = 1;
  record_.last_error = error;
  spdlog::debug("transfer {}: attempt {} failed: {}", record_.id, record_.attempt_count,
                error.describe());

  if (error.category() == ErrorCategory::LocalIo || error.category() == ErrorCategory::DiskFull) {
    phase_ = Phase::Running;  // let stop() run its normal path
    stop(TransferState::Paused, error.describe(), error);
    return;
  }
  FailedAttempt attempt;
  attempt.error = &error;
  attempt.attempts_made = record_.attempt_count;
  attempt.elapsed =
      std::chrono::milliseconds(std::max<std::int64_t>(0, unix_now() - record_.created_at));
  attempt.retry_after = retry_after;
  const auto decision = host_.retry_policy().decide(attempt, host_.rng());
  if (decision.retry) {
    record_.next_attempt_at = unix_now() + decision.delay.count();
    phase_ = Phase::Running;
    stop(TransferState::Waiting,
         fmt::format("{}; retrying in {} (attempt {} of {})", error.describe(),
                     human_duration(decision.delay), record_.attempt_count + 1,
                     host_.retry_policy().config().max_attempts),
         error);
    return;
  }
  // The final error keeps the cause's category and retryable flag ("trying later may help")
  // and says why no further attempt was made.
  const Error final_error(error.category(),
                          decision.reason.empty()
                              ? error.message()
                              : fmt::format("{} ({})", error.message(), decision.reason),
                          error.retryable(), error.http_status());
  finish(TransferState::Failed, final_error.describe(), !worth_keeping_after(error), true,
         final_error);
}

bool TaskCore::pace(std::uint64_t bytes) {
  const auto wait = host_.charge_rate(origin_, record_.id, bytes);
  if (wait.count() <= 0) return false;
  arm_rate_timer(wait);
  return true;
}

void TaskCore::arm_rate_timer(std::chrono::nanoseconds wait) {
  if (rate_timer_armed_) return;
  rate_timer_armed_ = true;
  rate_timer_.expires_after(wait);
  rate_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!self || ec) return;
    self->rate_timer_armed_ = false;
    if (self->phase_ != Phase::Running) return;
    const auto more = self->host_.charge_rate(self->origin_, self->record_.id, 0);
    if (more.count() > 0) {
      self->arm_rate_timer(more);
      return;
    }
    self->resume_paused();
  });
}

void TaskCore::rate_limits_changed() {
  if (!rate_timer_armed_ || phase_ != Phase::Running) return;
  rate_timer_armed_ = false;
  rate_timer_.cancel();  // its handler sees operation_aborted and leaves
  const auto more = host_.charge_rate(origin_, record_.id, 0);
  if (more.count() > 0) arm_rate_timer(more);
  else resume_paused();
}

void TaskCore::maybe_checkpoint(bool force) {
  if (phase_ != Phase::Running || persist_in_flight_ || !persists_.empty()) return;
  const auto done = checkpointable_bytes();
  if (done == bytes_at_checkpoint_) return;
  const auto now = host_.clock().now();
  const auto& cfg = host_.config();
  const auto moved = done > bytes_at_checkpoint_ ? done - bytes_at_checkpoint_ : 0;
  if (!force && moved < cfg.checkpoint_bytes && now - last_checkpoint_ < cfg.checkpoint_interval)
    return;
  bytes_at_checkpoint_ = done;
  last_checkpoint_ = now;
  PersistJob job;
  job.checkpoint = true;
  persist(std::move(job));
}

void TaskCore::persist(PersistJob job) {
  persists_.push_back(std::move(job));
  run_next_persist();
}

void TaskCore::run_next_persist() {
  if (persist_in_flight_ || persists_.empty()) return;
  PersistJob job = std::move(persists_.front());
  persists_.pop_front();
  persist_in_flight_ = true;

  // The snapshot is taken now: every byte the direction's work makes durable was moved before.
  store::TransferRecord record = record_;
  record.updated_at = unix_now();
  PersistWork own = prepare_persist(job);
  PersistItem item;
  item.start_flush = std::move(own.start_flush);
  item.directory = std::move(own.directory_to_sync);
  item.after = std::move(own.after_commit);
  item.committed_point = job.finalize ? "completed-journaled" : "checkpoint-journaled";
  item.build = [record, before = std::move(own.before_commit),
                reset = job.reset_progress || job.discard_local,
                event = job.event, digest = std::move(own.completed_digest)](store::Batch& batch) -> Result<void> {
    if (reset) batch.erase_transfer(record.id);
    batch.put_transfer(record);
    if (before) {
      if (auto r = before(batch); !r) return r;
    }
    if (event) {
      store::OutboxEvent e = *event;
      if (digest && e.kind == EventKind::Completed)
        if (auto reported = digest->reported()) e.digest = protocols::format_user_checksum(*reported);
      batch.add_event(e);
    }
    return {};
  };
  item.done = [weak = weak_from_this(), gen = generation_, applied = std::move(own.applied),
               then = std::move(job.then)](Result<void> result) {
    auto self = weak.lock();
    if (!self) return;
    self->persist_in_flight_ = false;
    if (result && gen == self->generation_ && applied) applied();
    if (!result && !then)  // a periodic checkpoint failed: treat like a local I/O error
      self->fail_attempt(result.error(), std::nullopt);
    if (then) then(result);
    self->run_next_persist();
  };
  host_.persist_groups().submit(std::move(item));
}

void TaskCore::tick() {
  if (phase_ != Phase::Running) return;
  maybe_checkpoint(false);
  on_tick();
  if (phase_ != Phase::Running) return;
  const auto now = host_.clock().now();
  if (now - last_progress_ < host_.config().progress_interval) return;
  const auto done = bytes_done();
  const double secs = std::chrono::duration<double>(now - last_progress_).count();
  speed_ = secs > 0 && done >= bytes_at_progress_ ? (done - bytes_at_progress_) / secs : 0;
  last_progress_ = now;
  if (done == bytes_at_progress_) return;
  bytes_at_progress_ = done;
  emit(EventKind::Progress, "");
}

void TaskCore::source_grew(std::uint64_t, bool, std::function<void(Result<void>)> done) {
  done(fail(ErrorCategory::InvalidArgument,
            fmt::format("transfer {} has no growing source (it is not an upload of one)", record_.id)));
}

TransferStatus TaskCore::status() const {
  TransferStatus st;
  st.id = record_.id;
  st.direction = record_.direction;
  st.url = record_.url;
  st.destination = record_.local_path;
  st.upload_url = resource_url();
  st.state = record_.state;
  st.bytes = bytes_done();
  st.durable_bytes = durable_bytes();
  st.total = size_;
  st.attempts = record_.attempt_count;
  if (record_.next_attempt_at > 0)
    st.next_attempt_at = std::chrono::system_clock::time_point(
        std::chrono::milliseconds(record_.next_attempt_at));
  st.last_error = record_.last_error;
  st.bytes_per_second = phase_ == Phase::Running ? speed_ : 0;
  st.protocol = protocol_;
  st.withheld_secrets = record_.withheld_secrets;
  fill_status(st);
  return st;
}

}  // namespace xfer::engine
