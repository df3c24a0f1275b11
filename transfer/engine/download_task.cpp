#include "transfer/engine/download_task.h"

#include <algorithm>

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "protocols/download/content_range.h"
#include "protocols/http/retry_after.h"
#include "base/crash_point.h"
#include "transfer/engine/event_hub.h"
#include "transfer/engine/secrets.h"
#include "transfer/files/destination_check.h"
#include "transfer/files/part_file.h"

namespace xfer::engine {

using protocols::BodyAction;
using protocols::RangeOutcome;

namespace {
constexpr std::uint32_t kMaxSegments = 16;
constexpr int kMaxRestartsPerAttempt = 4;
constexpr std::uint64_t kPreallocateAtLeast = 1 << 20;
// A length above this is a lie, not a big file: no local file system holds 1 EiB in one file
// (ext4 stops at 16 TiB, XFS and btrfs at the 8 EiB of off_t). Reporting it as "disk full"
// would send the user to free space that can never be enough.
constexpr std::uint64_t kLargestCredibleLength = 1ull << 60;
// Parsed unclamped (up to a millennium) so the retry policy sees what the server really asked
// and can refuse it, instead of obeying a silently shortened wait.
constexpr std::chrono::milliseconds kLongestRetryAfterSeen = std::chrono::hours(24 * 365 * 1000);


bool identity_encoding(const std::optional<std::string>& coding) {
  if (!coding) return true;
  std::string v;
  for (char c : *coding)
    if (c != ' ' && c != '\t') v.push_back(static_cast<char>(std::tolower(c)));
  return v.empty() || v == "identity";
}
}  // namespace

std::string part_path_for(const std::string& destination) { return files::part_path(destination); }

// One byte range and the exchange fetching it.
struct DownloadTask::Segment {
  std::uint32_t index = 0;
  std::uint64_t start = 0;
  std::optional<std::uint64_t> end;  // exclusive
  std::uint64_t cursor = 0;          // next byte to write
  std::uint64_t durable = 0;         // synced and journaled
  bool done = false;
  bool ignore_body = false;
  std::optional<std::uint64_t> expect_end;  // end the response announced
  protocols::RangeAsk ask;
  std::shared_ptr<Sink> sink;
  std::unique_ptr<protocols::HttpStream> stream;
  bool rate_paused = false;
};

// The ExchangeSink of one segment: a trampoline into the task that goes quiet once detached.
class DownloadTask::Sink final : public protocols::ExchangeSink {
 public:
  Sink(std::weak_ptr<DownloadTask> task, Segment* segment) : task_(std::move(task)), seg_(segment) {}
  bool detached = false;

  void on_interim(const protocols::ResponseHeaders&) override {}
  void on_response_head(const protocols::ResponseHeaders& head) override {
    if (auto t = live()) t->on_head(*seg_, head);
  }
  BodyAction on_body(std::span<const std::uint8_t> data) override {
    if (auto t = live()) return t->on_body(*seg_, data);
    return BodyAction::Pause;
  }
  protocols::BodyRead read_body(std::span<std::uint8_t>) override { return {}; }
  void on_complete(Result<void> outcome) override {
    if (auto t = live()) t->on_complete(*seg_, std::move(outcome));
  }

 private:
  std::shared_ptr<DownloadTask> live() { return detached ? nullptr : task_.lock(); }
  std::weak_ptr<DownloadTask> task_;
  Segment* seg_;
};

DownloadTask::DownloadTask(TaskHost& host, store::TransferRecord record,
                           std::vector<store::SegmentRecord> segments)
    : host_(host),
      record_(std::move(record)),
      origin_(origin_of(record_.url)),
      part_path_(files::part_path(record_.local_path)),
      rate_timer_(host.io()) {
  state_name_ = record_.state;
  std::sort(segments.begin(), segments.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  for (const auto& s : segments) {
    auto seg = std::make_unique<Segment>();
    seg->index = s.index;
    seg->start = s.start;
    seg->end = s.end;
    seg->durable = std::clamp(s.offset, s.start, s.end.value_or(UINT64_MAX));
    seg->cursor = seg->durable;
    segments_.push_back(std::move(seg));
  }
}

DownloadTask::~DownloadTask() {
  detach_all();
  rate_timer_.cancel();
}

// ---- lifecycle -------------------------------------------------------------------------------

void DownloadTask::start() {
  phase_ = Phase::Running;
  record_.attempt_count += 1;
  record_.next_attempt_at = 0;
  set_state(TransferState::Active, fmt::format("attempt {}", record_.attempt_count), std::nullopt);
  last_checkpoint_ = host_.clock().now();
  attempt_started_ = last_checkpoint_;
  restarts_this_attempt_ = 0;
  if (auto secrets = host_.credentials_for(record_); !secrets) {
    // Not a failure of the transfer: it keeps everything and continues once they are given.
    stop(TransferState::Paused, secrets.error().describe(), secrets.error());
    return;
  } else {
    credentials_ = std::move(*secrets);
  }
  if (auto opened = open_part(); !opened) {
    fail_attempt(opened.error(), std::nullopt);
    return;
  }
  bytes_at_checkpoint_ = bytes_done();
  bytes_at_progress_ = bytes_at_checkpoint_;
  bytes_at_attempt_start_ = bytes_at_checkpoint_;
  last_progress_ = last_checkpoint_;
  bool all_done = true;
  for (auto& seg : segments_) {
    if (seg->done) continue;
    all_done = false;
    start_segment(*seg);
    if (phase_ != Phase::Running) return;
  }
  if (all_done) finalize();
}

Result<void> DownloadTask::open_part() {
  auto& fs = host_.file_system();
  // Again at every start: the path may have changed since the transfer was queued.
  if (auto r = files::check_destination(fs, record_.local_path); !r) return r;
  if (auto r = fs.create_directories(files::parent_directory(record_.local_path)); !r) return r;
  auto file = fs.open_part(part_path_);
  if (!file) return std::unexpected(file.error());
  file_ = std::shared_ptr<files::File>(std::move(*file));
  auto on_disk = file_->size();
  if (!on_disk) return std::unexpected(on_disk.error());

  if (!record_.checksum.empty()) {
    auto digest = protocols::parse_user_checksum(record_.checksum);
    if (!digest) return std::unexpected(digest.error());
    user_digest_ = *digest;
  }
  if (!record_.etag.empty()) validators_.etag = record_.etag;
  if (!record_.last_modified.empty()) validators_.last_modified = record_.last_modified;
  size_ = record_.size;

  const bool fresh = segments_.empty();
  bool trusted = !fresh;
  for (auto& seg : segments_) {
    // Bytes past a journaled offset are not trusted; a file shorter than the journal says (the
    // .part was removed or replaced) means nothing in it is.
    if (*on_disk < seg->durable) trusted = false;
  }
  if (!trusted) {
    if (!segments_.empty() && bytes_done() > 0)
      host_.emit(make_event(EventKind::Restarted, record_.id, 0, TransferState::Active, 0, size_,
                       "the .part file is shorter than the journal says; starting from zero"));
    segments_.clear();
    auto seg = std::make_unique<Segment>();
    segments_.push_back(std::move(seg));
    validators_ = {};
    size_.reset();
    record_.etag.clear();
    record_.last_modified.clear();
    record_.size.reset();
    if (*on_disk > 0) {
      if (auto r = file_->truncate(0); !r) return r;
    }
    // A fresh transfer has no segment records to erase; a distrusted one must lose them before
    // its first checkpoint can claim bytes.
    if (!fresh) {
      PersistJob reset;
      reset.sync_data = false;
      reset.reset_segments = true;
      persist(std::move(reset));
    }
  } else if (segments_.size() == 1 && !segments_[0]->end && *on_disk != segments_[0]->durable) {
    if (auto r = file_->truncate(segments_[0]->durable); !r) return r;
  }
  for (auto& seg : segments_) seg->done = seg->end && seg->cursor >= *seg->end;
  split_done_ = segments_.size() > 1;
  return {};
}

void DownloadTask::start_segment(Segment& seg) {
  seg.ask = protocols::RangeAsk{};
  seg.ask.offset = seg.cursor;
  if (seg.end) seg.ask.last = *seg.end - 1;
  seg.ask.known_length = size_;
  seg.ask.held = validators_;
  seg.ignore_body = false;
  seg.expect_end.reset();
  const auto range = protocols::build_range_request(seg.ask);
  if (!range.validated) {
    restart_from_zero("no strong validator to resume with", nullptr);
    return;
  }
  protocols::HttpRequest request;
  request.url = with_userinfo(record_.url, credentials_.url_userinfo);
  request.headers = record_.request_headers;
  request.headers.insert(request.headers.end(), credentials_.headers.begin(),
                         credentials_.headers.end());
  if (range.range) request.headers.emplace_back("Range", *range.range);
  if (range.if_range) request.headers.emplace_back("If-Range", *range.if_range);
  if (host_.config().want_digest) request.headers.emplace_back("Want-Repr-Digest", "sha-256=5");
  request.version =
      record_.protocol == HttpVersion::Any ? host_.config().protocol : record_.protocol;
  request.connect_timeout_ms = host_.config().connect_timeout_ms;
  request.forward_headers_across_origins = host_.config().forward_headers_across_origins;
  request.low_speed_bytes_per_sec = host_.config().low_speed_bytes_per_sec;
  request.low_speed_seconds = host_.config().low_speed_seconds;

  spdlog::debug("transfer {}: segment {} GET {} {}", record_.id, seg.index,
                range.range.value_or("(whole)"), range.if_range.value_or(""));
  seg.sink = std::make_shared<Sink>(weak_from_this(), &seg);
  auto stream = host_.transport().start(request, *seg.sink);
  if (!stream) {
    fail_attempt(stream.error(), std::nullopt);
    return;
  }
  seg.stream = std::move(*stream);
}

void DownloadTask::stop(TransferState target, std::string reason, std::optional<Error> error) {
  if (phase_ == Phase::Stopping || phase_ == Phase::Done) return;
  const bool was_running = phase_ == Phase::Running;
  phase_ = Phase::Stopping;
  detach_all();
  if (target == TransferState::Cancelled) {
    finish(TransferState::Cancelled, reason.empty() ? "cancelled" : reason, true, true);
    return;
  }
  // A failure's stop records it; a pause by request says nothing failed.
  if (error) {
    record_.last_error = error;
  } else if (target == TransferState::Paused) {
    record_.last_error.reset();
  }
  set_state(target, reason, error);
  PersistJob job;
  job.sync_data = was_running && file_ != nullptr;
  job.then = [this, target](Result<void>) {
    phase_ = Phase::Done;
    host_.task_stopped(record_.id, target, false);
  };
  persist(std::move(job));
}

void DownloadTask::finish(TransferState state, std::string message, bool remove_part,
                          bool with_event, std::optional<Error> error) {
  phase_ = Phase::Stopping;
  detach_all();
  if (state == TransferState::Failed) record_.last_error = error;
  set_state(state, message, error);
  PersistJob job;
  job.sync_data = !remove_part && file_ != nullptr;
  job.remove_part = remove_part;
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
    if (!r) spdlog::error("transfer {}: journaling {} failed: {}", record_.id, to_string(state),
                          r.error().describe());
    phase_ = Phase::Done;
    host_.task_stopped(record_.id, state, with_event && r.has_value());
  };
  persist(std::move(job));
}

void DownloadTask::set_state(TransferState state, const std::string& why,
                             const std::optional<Error>& error) {
  const auto old = state_name_;
  state_name_ = state;
  record_.state = state;
  spdlog::debug("transfer {}: {} -> {} ({})", record_.id, to_string(old), to_string(state), why);
  Event event = make_event(EventKind::StateChanged, record_.id, 0, state, bytes_done(), size_, why);
  event.error = error;
  host_.emit(std::move(event));
}

// ---- response handling -----------------------------------------------------------------------

void DownloadTask::on_head(Segment& seg, const protocols::ResponseHeaders& head) {
  if (phase_ != Phase::Running) return;
  if (seg.stream && protocol_.empty()) {
    protocol_ = seg.stream->negotiated_protocol();
    if (!protocol_.empty()) host_.protocol_learned(origin_, protocol_);
  }
  const int status = head.status;
  if (status != 200 && status != 206 && status != 416) {
    seg.ignore_body = true;
    std::optional<std::chrono::milliseconds> retry_after;
    if (const auto* value = head.find("retry-after"))
      retry_after = protocols::parse_retry_after(*value, unix_now(), kLongestRetryAfterSeen);
    fail_attempt(Error(ErrorCategory::HttpStatus, fmt::format("server answered {}", status),
                       is_retryable_status(status), status),
                 retry_after);
    return;
  }
  auto decision = protocols::judge_range_response(seg.ask, protocols::range_response_from(head));
  switch (decision.outcome) {
    case RangeOutcome::ProtocolError:
      seg.ignore_body = true;
      fail_attempt(Error(ErrorCategory::Protocol, decision.detail), std::nullopt);
      return;
    case RangeOutcome::AlreadyComplete:
      seg.ignore_body = true;
      seg.cursor = seg.end.value_or(seg.cursor);
      if (decision.total_length) size_ = decision.total_length;
      return;
    case RangeOutcome::Restart:
      if (segments_.size() == 1 && decision.body_is_full_representation &&
          ++restarts_this_attempt_ <= kMaxRestartsPerAttempt) {
        restart_in_place(decision.detail);
        if (phase_ != Phase::Running) return;
        break;
      }
      restart_from_zero(decision.detail, &seg);
      return;
    case RangeOutcome::Continue:
      break;
  }
  if (decision.write_offset != seg.cursor) {
    fail_attempt(Error(ErrorCategory::Internal,
                       fmt::format("range decision wrote at {}, cursor at {}",
                                   decision.write_offset, seg.cursor)),
                 std::nullopt);
    return;
  }
  if (!identity_encoding(decision.validators.content_encoding)) {
    fail_attempt(Error(ErrorCategory::Protocol,
                       fmt::format("server applied Content-Encoding '{}' that was not requested",
                                   *decision.validators.content_encoding)),
                 std::nullopt);
    return;
  }
  if (decision.body_length) seg.expect_end = decision.write_offset + *decision.body_length;
  if (auto r = learn_digest(head, status); !r) {
    fail_attempt(r.error(), std::nullopt);
    return;
  }
  if (!size_checked_) on_first_head(decision);
}

void DownloadTask::on_first_head(const protocols::RangeDecision& decision) {
  size_checked_ = true;
  validators_ = decision.validators;
  record_.etag = validators_.etag.value_or("");
  record_.last_modified = validators_.last_modified.value_or("");
  if (decision.total_length) size_ = decision.total_length;
  record_.size = size_;
  if (size_ && *size_ > kLargestCredibleLength) {
    fail_attempt(Error(ErrorCategory::Protocol,
                       fmt::format("the server announced {} bytes, more than any file can hold",
                                   *size_)),
                 std::nullopt);
    return;
  }
  if (size_) {
    // Refuse early rather than fill the disk: the rest of the file must fit.
    const auto have = bytes_done();
    const auto need = *size_ > have ? *size_ - have : 0;
    auto free = host_.file_system().free_space(files::parent_directory(record_.local_path));
    if (free && *free < need) {
      fail_attempt(Error(ErrorCategory::DiskFull,
                         fmt::format("{} needs {} more bytes, only {} free", record_.local_path,
                                     need, *free)),
                   std::nullopt);
      return;
    }
    // Small files gain nothing from reserved extents; the syscall would cost more than it saves.
    if (auto r = *size_ >= kPreallocateAtLeast ? file_->preallocate(*size_) : Result<void>{}; !r) {
      fail_attempt(r.error(), std::nullopt);
      return;
    }
  }
  ranges_ok_ = decision.resumable;
  maybe_split();
}

Result<void> DownloadTask::learn_digest(const protocols::ResponseHeaders& head, int status) {
  // Repr-Digest covers the whole representation, whatever range this response carries;
  // Content-Digest covers this message's content, which is the representation only on a 200.
  const std::string* field = head.find("repr-digest");
  if (!field && status == 200) field = head.find("content-digest");
  if (!field) return {};
  auto digests = protocols::parse_digest_field(*field);
  if (!digests) return std::unexpected(digests.error().with_context("digest field"));
  if (auto strongest = protocols::strongest_digest(*digests)) server_digest_ = *strongest;
  return {};
}

void DownloadTask::maybe_split() {
  const auto& cfg = host_.config();
  if (split_done_ || record_.segment_count <= 1 || segments_.size() != 1 || !size_ || !ranges_ok_ ||
      phase_ != Phase::Running)
    return;
  Segment& first = *segments_[0];
  if (first.end || !first.stream) return;  // already bounded, or between attempts
  if (cfg.segment_probe.count() > 0) {
    // Decide once, after the probe, from what the single stream achieved in this attempt.
    const auto elapsed = host_.clock().now() - attempt_started_;
    if (elapsed < cfg.segment_probe) return;
    split_done_ = true;
    const double secs = std::chrono::duration<double>(elapsed).count();
    const double rate = static_cast<double>(bytes_done() - bytes_at_attempt_start_) / secs;
    if (rate >= static_cast<double>(cfg.segment_below_rate)) {
      spdlog::debug("transfer {}: one stream moves {:.0f} B/s, not segmenting", record_.id, rate);
      return;
    }
  }
  split_done_ = true;
  // Split what is left; the first stream keeps running and stops at its new end.
  const std::uint64_t from = first.cursor;
  if (*size_ <= from || *size_ - from < cfg.segment_threshold) return;
  const std::uint32_t n = std::min(record_.segment_count, kMaxSegments);
  const std::uint64_t align = 1 << 16;
  const std::uint64_t chunk = ((*size_ - from) / n + align - 1) / align * align;
  first.end = std::min(from + chunk, *size_);
  spdlog::debug("transfer {}: splitting bytes {}.. into {} segments", record_.id, from, n);
  std::uint32_t next_index = first.index + 1;
  for (std::uint32_t i = 1; i < n && from + i * chunk < *size_; ++i) {
    auto seg = std::make_unique<Segment>();
    seg->index = next_index++;
    seg->start = from + i * chunk;
    seg->end = i + 1 == n ? *size_ : std::min<std::uint64_t>(from + (i + 1) * chunk, *size_);
    seg->cursor = seg->durable = seg->start;
    segments_.push_back(std::move(seg));
    start_segment(*segments_.back());
    if (phase_ != Phase::Running) return;
  }
}

void DownloadTask::restart_in_place(const std::string& reason) {
  ++generation_;
  Segment& seg = *segments_[0];
  if (auto r = file_->truncate(0); !r) {
    fail_attempt(r.error(), std::nullopt);
    return;
  }
  seg.cursor = seg.durable = 0;
  validators_ = {};
  size_.reset();
  size_checked_ = false;
  server_digest_.reset();
  digest_ = std::make_shared<files::PrefixDigest>();  // the old one hashed bytes now gone
  record_.etag.clear();
  record_.last_modified.clear();
  record_.size.reset();
  bytes_at_checkpoint_ = 0;
  host_.emit(make_event(EventKind::Restarted, record_.id, 0, TransferState::Active, 0, std::nullopt,
                   "restarting from zero: " + reason));
  {
      PersistJob reset;
      reset.sync_data = false;
      reset.reset_segments = true;
      persist(std::move(reset));
    }
  seg.ask.offset = 0;
}

void DownloadTask::restart_from_zero(const std::string& reason, Segment*) {
  if (++restarts_this_attempt_ > kMaxRestartsPerAttempt) {
    fail_attempt(Error(ErrorCategory::Protocol,
                       "the representation keeps changing (" + reason + ")", true),
                 std::nullopt);
    return;
  }
  detach_all();
  segments_.clear();
  segments_.push_back(std::make_unique<Segment>());
  split_done_ = false;
  restart_in_place(reason);
  if (phase_ != Phase::Running) return;
  // A fresh, unranged request (posted: we may be inside a sink callback of a detached stream).
  boost::asio::post(host_.io(), [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || self->phase_ != Phase::Running || self->segments_.empty()) return;
    if (!self->segments_[0]->stream) self->start_segment(*self->segments_[0]);
  });
}

BodyAction DownloadTask::on_body(Segment& seg, std::span<const std::uint8_t> data) {
  if (phase_ != Phase::Running || seg.ignore_body || seg.done) return BodyAction::Continue;
  const std::uint64_t n = data.size();
  if ((seg.expect_end && seg.cursor + n > *seg.expect_end) ||
      (size_ && seg.cursor + n > *size_)) {
    fail_attempt(Error(ErrorCategory::Protocol,
                       "server sent more body bytes than its Content-Length/Content-Range said"),
                 std::nullopt);
    return BodyAction::Pause;
  }
  std::uint64_t take = n;
  bool cut = false;
  if (seg.end) {
    const bool open_ended = !seg.ask.last.has_value();
    if (seg.cursor + n > *seg.end || (open_ended && seg.cursor + n == *seg.end)) {
      take = *seg.end - seg.cursor;
      cut = true;
    }
  }
  if (take > 0) {
    if (auto r = file_->write_at(seg.cursor, data.first(take)); !r) {
      fail_attempt(r.error(), std::nullopt);
      return BodyAction::Pause;
    }
    seg.cursor += take;
  }
  if (cut) {
    segment_done(seg);
    return BodyAction::Pause;
  }
  maybe_checkpoint(false);
  const auto wait = host_.charge_rate(origin_, record_.id, take);
  if (wait.count() > 0) {
    seg.rate_paused = true;
    arm_rate_timer(wait);
    return BodyAction::Pause;
  }
  return BodyAction::Continue;
}

void DownloadTask::on_complete(Segment& seg, Result<void> outcome) {
  if (phase_ != Phase::Running) return;
  if (seg.sink) seg.sink->detached = true;  // the exchange is over; release it at the boundary
  detach(seg);
  if (!outcome) {
    fail_attempt(outcome.error(), std::nullopt);
    return;
  }
  if (seg.ignore_body) {  // 416: every byte was already here
    segment_done(seg);
    return;
  }
  std::optional<std::uint64_t> expected = seg.end;
  if (!expected) expected = seg.expect_end ? seg.expect_end : size_;
  if (expected && seg.cursor < *expected) {
    fail_attempt(Error(ErrorCategory::Network,
                       fmt::format("response ended at byte {} of {}", seg.cursor, *expected), true),
                 std::nullopt);
    return;
  }
  if (!size_ && segments_.size() == 1) size_ = seg.cursor;
  segment_done(seg);
}

void DownloadTask::segment_done(Segment& seg) {
  seg.done = true;
  detach(seg);
  for (const auto& s : segments_)
    if (!s->done) return;
  finalize();
}

void DownloadTask::detach(Segment& seg) {
  if (seg.sink) seg.sink->detached = true;
  if (!seg.stream && !seg.sink) return;
  // Streams are destroyed at the loop boundary, never inside one of their own callbacks.
  std::shared_ptr<protocols::HttpStream> stream(std::move(seg.stream));
  std::shared_ptr<Sink> sink(std::move(seg.sink));
  boost::asio::post(host_.io(), [stream, sink]() mutable {
    stream.reset();
    sink.reset();
  });
  seg.rate_paused = false;
}

void DownloadTask::detach_all() {
  for (auto& seg : segments_) detach(*seg);
}

void DownloadTask::fail_attempt(const Error& error,
                                std::optional<std::chrono::milliseconds> retry_after) {
  if (phase_ != Phase::Running) return;
  phase_ = Phase::Stopping;
  detach_all();
  const bool remote = error.category() == ErrorCategory::Network ||
                      error.category() == ErrorCategory::Tls ||
                      (error.category() == ErrorCategory::HttpStatus && error.retryable());
  // An attempt that moved bytes proves the origin alive and the transfer progressing: it does
  // not trip the breaker and starts the attempt budget over (a long download over a flaky
  // link keeps going while it progresses; a stuck one still runs out of attempts).
  const bool progressed = bytes_done() > bytes_at_attempt_start_;
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
  attempt.elapsed = std::chrono::milliseconds(std::max<std::int64_t>(0, unix_now() - record_.created_at));
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
  // Keep the .part only when a later resume() can continue it: the bytes are of a known
  // representation and the failure was not about the bytes themselves.
  const bool resumable = is_retryable(error) && bytes_done() > 0 &&
                         protocols::choose_if_range(validators_).has_value();
  // The final error keeps the cause's category and retryable flag ("trying later may help")
  // and says why no further attempt was made.
  const Error final_error(error.category(),
                          decision.reason.empty()
                              ? error.message()
                              : fmt::format("{} ({})", error.message(), decision.reason),
                          error.retryable(), error.http_status());
  finish(TransferState::Failed, final_error.describe(), !resumable, true, final_error);
}

void DownloadTask::arm_rate_timer(std::chrono::nanoseconds wait) {
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
    for (auto& seg : self->segments_) {
      if (seg->rate_paused && seg->stream) {
        seg->rate_paused = false;
        seg->stream->resume_receive();
      }
    }
  });
}

// ---- durability ------------------------------------------------------------------------------

void DownloadTask::maybe_checkpoint(bool force) {
  if (phase_ != Phase::Running || persist_in_flight_ || !persists_.empty()) return;
  const auto done = bytes_done();
  if (done == bytes_at_checkpoint_) return;
  const auto now = host_.clock().now();
  const auto& cfg = host_.config();
  const auto moved = done > bytes_at_checkpoint_ ? done - bytes_at_checkpoint_ : 0;
  if (!force && moved < cfg.checkpoint_bytes && now - last_checkpoint_ < cfg.checkpoint_interval)
    return;
  bytes_at_checkpoint_ = done;
  last_checkpoint_ = now;
  PersistJob job;
  job.hash_ahead = true;
  persist(std::move(job));
}

void DownloadTask::persist(PersistJob job) {
  persists_.push_back(std::move(job));
  run_next_persist();
}

void DownloadTask::run_next_persist() {
  if (persist_in_flight_ || persists_.empty()) return;
  PersistJob job = std::move(persists_.front());
  persists_.pop_front();
  persist_in_flight_ = true;

  // The snapshot is taken now, so every byte below these offsets was written before the sync
  // that the pool job is about to run.
  store::TransferRecord record = record_;
  record.updated_at = unix_now();
  std::vector<store::SegmentRecord> segs;
  for (const auto& s : segments_)
    segs.push_back(store::SegmentRecord{record_.id, s->index, s->start, s->end, s->cursor});
  files::FinalizeChecks checks;
  checks.size = size_;
  checks.digests.server_digest = server_digest_;
  checks.digests.user_checksum = user_digest_;
  const std::uint64_t prefix = written_prefix();

  auto work = [file = file_, &fs = host_.file_system(), &journal = host_.journal(),
               digest = digest_, prefix, part = part_path_, dest = record_.local_path, record,
               segs, checks, hash_ahead = job.hash_ahead,
               sync_data = job.sync_data, finalize = job.finalize, remove_part = job.remove_part,
               reset = job.reset_segments, event = job.event]() -> Result<void> {
    if (finalize) {
      if (!file) return fail(ErrorCategory::Internal, "finalize without a part file");
      if (auto r = files::finalize_part(fs, *file, part, dest, checks, *digest); !r) return r;
    } else if (sync_data && file) {
      if (auto r = file->sync_data(); !r) return r;
      crash_point("checkpoint-synced");
    }
    if (remove_part) {
      if (auto r = fs.remove(part); !r) return r;
    }
    store::Batch batch;
    if (reset || remove_part) batch.erase_transfer(record.id);
    batch.put_transfer(record);
    if (!remove_part)
      for (const auto& s : segs) batch.put_segment(s);
    if (event) batch.add_event(*event);
    if (auto r = journal.commit(std::move(batch), store::Durability::Synced); !r) return r;
    crash_point(finalize ? "completed-journaled" : "checkpoint-journaled");
    // After the commit, so hashing never delays the durable offset: hash what arrived since
    // the last checkpoint while it is still in the page cache, so the finalize does not read
    // the whole file again. Only a head start: if it fails (a restart truncated the file under
    // a stale job, a read error) the finalize hashes from byte 0 and meets any real error.
    if (hash_ahead && file) {
      if (auto r = digest->advance(*file, prefix, checks.digests); !r) digest->discard();
    }
    return {};
  };
  auto done = [weak = weak_from_this(), gen = generation_, segs,
               then = std::move(job.then)](Result<void> result) {
    auto self = weak.lock();
    if (!self) return;
    self->persist_in_flight_ = false;
    if (result && gen == self->generation_) {
      for (const auto& s : segs)
        for (auto& seg : self->segments_)
          if (seg->index == s.index && seg->start == s.start) seg->durable = s.offset;
    }
    if (!result && !then)  // a periodic checkpoint failed: treat like a local I/O error
      self->fail_attempt(result.error(), std::nullopt);
    if (then) then(result);
    self->run_next_persist();
  };
  host_.pool().run(std::move(work), std::move(done));
}

void DownloadTask::finalize() {
  phase_ = Phase::Stopping;
  detach_all();
  rate_timer_.cancel();
  if (!size_) size_ = bytes_done();
  spdlog::debug("transfer {}: all {} bytes received, finalizing", record_.id, *size_);
  const auto previous = record_.state;
  record_.state = TransferState::Completed;
  record_.size = size_;
  record_.next_attempt_at = 0;
  record_.last_error.reset();
  store::OutboxEvent event;
  event.transfer_id = record_.id;
  event.kind = EventKind::Completed;
  event.message = fmt::format("{} bytes", *size_);
  event.created_at = unix_now();
  PersistJob job;
  job.finalize = true;
  job.event = std::move(event);
  job.then = [this, previous](Result<void> r) {
        if (r) {
          host_.attempt_outcome(origin_, true, protocol_);
          set_state(TransferState::Completed, "verified and in place", std::nullopt);
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

// ---- reporting -------------------------------------------------------------------------------

std::uint64_t DownloadTask::written_prefix() const {
  std::vector<const Segment*> order;
  for (const auto& s : segments_) order.push_back(s.get());
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->start < b->start; });
  std::uint64_t prefix = 0;
  for (const auto* s : order) {
    if (s->start != prefix) break;
    prefix = s->cursor;
    if (!s->end || s->cursor < *s->end) break;
  }
  return prefix;
}

std::uint64_t DownloadTask::bytes_done() const {
  std::uint64_t total = 0;
  for (const auto& s : segments_) total += s->cursor - s->start;
  return total;
}

void DownloadTask::tick() {
  if (phase_ != Phase::Running) return;
  maybe_checkpoint(false);
  maybe_split();
  const auto now = host_.clock().now();
  if (now - last_progress_ < host_.config().progress_interval) return;
  const auto done = bytes_done();
  const double secs = std::chrono::duration<double>(now - last_progress_).count();
  speed_ = secs > 0 && done >= bytes_at_progress_ ? (done - bytes_at_progress_) / secs : 0;
  last_progress_ = now;
  if (done == bytes_at_progress_) return;
  bytes_at_progress_ = done;
  host_.emit(make_event(EventKind::Progress, record_.id, 0, TransferState::Active, done, size_, ""));
}

TransferStatus DownloadTask::status() const {
  TransferStatus st;
  st.id = record_.id;
  st.direction = record_.direction;
  st.url = record_.url;
  st.destination = record_.local_path;
  st.state = record_.state;
  st.bytes = bytes_done();
  for (const auto& s : segments_) st.durable_bytes += s->durable - s->start;
  st.total = size_;
  st.attempts = record_.attempt_count;
  if (record_.next_attempt_at > 0)
    st.next_attempt_at = std::chrono::system_clock::time_point(
        std::chrono::milliseconds(record_.next_attempt_at));
  st.last_error = record_.last_error;
  st.bytes_per_second = phase_ == Phase::Running ? speed_ : 0;
  st.protocol = protocol_;
  st.segments = static_cast<std::uint32_t>(segments_.size());
  st.withheld_secrets = record_.withheld_secrets;
  return st;
}

}  // namespace xfer::engine
