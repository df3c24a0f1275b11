#include "transfer/engine/download_task.h"

#include <algorithm>

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/ascii.h"
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
// Body bytes arrive a DATA frame (16 KiB over HTTP/2) or a read batch at a time; they are
// gathered to this much per segment and written with one pwrite. Bounded: at most this much per
// segment is received but not yet in the file.
constexpr std::size_t kCoalesceWrites = 256 * 1024;
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
    if (c != ' ' && c != '\t') v.push_back(ascii_lower(c));
  return v.empty() || v == "identity";
}
}  // namespace

std::string part_path_for(const std::string& destination) { return files::part_path(destination); }

// One byte range and the exchange fetching it.
struct DownloadTask::Segment {
  std::uint32_t index = 0;
  std::uint64_t start = 0;
  std::optional<std::uint64_t> end;  // exclusive
  std::uint64_t cursor = 0;          // next byte to write to the file
  std::uint64_t durable = 0;         // synced and journaled
  // Received after `cursor`, not yet written (kCoalesceWrites). Written before anything looks
  // at the file or the cursor: a checkpoint's snapshot, a split, the segment's end, a new request.
  std::vector<std::uint8_t> pending;
  std::uint64_t received() const { return cursor + pending.size(); }
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
    : TaskCore(host, std::move(record)), part_path_(files::part_path(record_.local_path)) {
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

DownloadTask::~DownloadTask() { release_exchanges(); }

// ---- lifecycle -------------------------------------------------------------------------------

void DownloadTask::launch() {
  restarts_this_attempt_ = 0;
  bool all_done = true;
  for (auto& seg : segments_) {
    if (seg->done) continue;
    all_done = false;
    start_segment(*seg);
    if (phase_ != Phase::Running) return;
  }
  if (all_done) complete(fmt::format("{} bytes", bytes_done()));
}

Result<void> DownloadTask::prepare() {
  auto& fs = host_.file_system();
  // Again at every start: the path may have changed since the transfer was queued. (The part
  // file is looked at by open_part.)
  if (auto r = files::check_destination_path(fs, record_.local_path); !r) return r;
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
      emit(EventKind::Restarted,
           "the .part file is shorter than the journal says; starting from zero");
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
      reset.reset_progress = true;
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
  // Bytes of an earlier exchange still waiting are good bytes of the same representation.
  if (auto r = write_pending(seg); !r) {
    fail_attempt(r.error(), std::nullopt);
    return;
  }
  seg.ask = protocols::RangeAsk{};
  seg.ask.offset = seg.cursor;
  if (seg.end) seg.ask.last = *seg.end - 1;
  seg.ask.known_length = size_;
  seg.ask.held = validators_;
  seg.ignore_body = false;
  seg.expect_end.reset();
  const auto range = protocols::build_range_request(seg.ask);
  if (!range.validated) {
    restart_from_zero("no strong validator to resume with");
    return;
  }
  protocols::HttpRequest request = request_to("GET", record_.url);
  if (range.range) request.headers.emplace_back("Range", *range.range);
  if (range.if_range) request.headers.emplace_back("If-Range", *range.if_range);
  if (host_.config().want_digest) request.headers.emplace_back("Want-Repr-Digest", "sha-256=5");

  spdlog::debug("transfer {}: segment {} GET {} {}", record_.id, seg.index,
                range.range.value_or("(whole)"), range.if_range.value_or(""));
  seg.sink = std::make_shared<Sink>(weak_self(), &seg);
  auto stream = host_.transport().start(request, *seg.sink);
  if (!stream) {
    fail_attempt(stream.error(), std::nullopt);
    return;
  }
  seg.stream = std::move(*stream);
}

// ---- response handling -----------------------------------------------------------------------

void DownloadTask::on_head(Segment& seg, const protocols::ResponseHeaders& head) {
  if (phase_ != Phase::Running) return;
  learn_from_head(seg.stream.get(), head, record_.url);
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
      restart_from_zero(decision.detail);
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
  if (auto r = write_pending(first); !r) {
    fail_attempt(r.error(), std::nullopt);
    return;
  }
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
  bump_generation();
  Segment& seg = *segments_[0];
  if (auto r = file_->truncate(0); !r) {
    fail_attempt(r.error(), std::nullopt);
    return;
  }
  seg.cursor = seg.durable = 0;
  seg.pending.clear();
  validators_ = {};
  size_.reset();
  size_checked_ = false;
  server_digest_.reset();
  digest_ = std::make_shared<files::PrefixDigest>();  // the old one hashed bytes now gone
  record_.etag.clear();
  record_.last_modified.clear();
  record_.size.reset();
  rebase_progress();
  emit(EventKind::Restarted, "restarting from zero: " + reason);
  PersistJob reset;
  reset.sync_data = false;
  reset.reset_progress = true;
  persist(std::move(reset));
  seg.ask.offset = 0;
}

void DownloadTask::restart_from_zero(const std::string& reason) {
  if (++restarts_this_attempt_ > kMaxRestartsPerAttempt) {
    fail_attempt(Error(ErrorCategory::Protocol,
                       "the representation keeps changing (" + reason + ")", true),
                 std::nullopt);
    return;
  }
  release_exchanges();
  segments_.clear();
  segments_.push_back(std::make_unique<Segment>());
  split_done_ = false;
  restart_in_place(reason);
  if (phase_ != Phase::Running) return;
  // A fresh, unranged request (posted: we may be inside a sink callback of a detached stream).
  boost::asio::post(host_.io(), [weak = weak_self()] {
    auto self = weak.lock();
    if (!self || self->phase_ != Phase::Running || self->segments_.empty()) return;
    if (!self->segments_[0]->stream) self->start_segment(*self->segments_[0]);
  });
}

BodyAction DownloadTask::on_body(Segment& seg, std::span<const std::uint8_t> data) {
  if (phase_ != Phase::Running || seg.ignore_body || seg.done) return BodyAction::Continue;
  const std::uint64_t n = data.size();
  const std::uint64_t at = seg.received();
  if ((seg.expect_end && at + n > *seg.expect_end) || (size_ && at + n > *size_)) {
    fail_attempt(Error(ErrorCategory::Protocol,
                       "server sent more body bytes than its Content-Length/Content-Range said"),
                 std::nullopt);
    return BodyAction::Pause;
  }
  std::uint64_t take = n;
  bool cut = false;
  if (seg.end) {
    const bool open_ended = !seg.ask.last.has_value();
    if (at + n > *seg.end || (open_ended && at + n == *seg.end)) {
      take = *seg.end - at;
      cut = true;
    }
  }
  if (auto r = take_body(seg, data.first(take), cut); !r) {
    fail_attempt(r.error(), std::nullopt);
    return BodyAction::Pause;
  }
  if (cut) {
    segment_done(seg);
    return BodyAction::Pause;
  }
  maybe_checkpoint(false);
  if (pace(take)) {
    seg.rate_paused = true;
    return BodyAction::Pause;
  }
  return BodyAction::Continue;
}

void DownloadTask::on_complete(Segment& seg, Result<void> outcome) {
  if (phase_ != Phase::Running) return;
  if (seg.sink) seg.sink->detached = true;  // the exchange is over; release it at the boundary
  detach(seg);
  // What arrived before a failure is kept: the retry continues after it.
  if (auto r = write_pending(seg); !r) {
    fail_attempt(r.error(), std::nullopt);
    return;
  }
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
  complete(fmt::format("{} bytes", size_.value_or(bytes_done())));
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

void DownloadTask::release_exchanges() {
  for (auto& seg : segments_) detach(*seg);
}

void DownloadTask::resume_paused() {
  for (auto& seg : segments_) {
    if (seg->rate_paused && seg->stream) {
      seg->rate_paused = false;
      seg->stream->resume_receive();
    }
  }
}

bool DownloadTask::worth_keeping_after(const Error& error) const {
  // Keep the .part only when a later resume() can continue it: the bytes are of a known
  // representation and the failure was not about the bytes themselves.
  return is_retryable(error) && bytes_done() > 0 &&
         protocols::choose_if_range(validators_).has_value();
}

// ---- durability ------------------------------------------------------------------------------

Result<void> DownloadTask::write_pending(Segment& seg) {
  if (seg.pending.empty()) return {};
  auto r = file_->write_at(seg.cursor, seg.pending);
  if (r) seg.cursor += seg.pending.size();
  seg.pending.clear();  // on failure too: the attempt fails, the next one asks from the cursor
  if (r) hash_ahead();
  return r;
}

Result<void> DownloadTask::take_body(Segment& seg, std::span<const std::uint8_t> data, bool last) {
  if (data.empty()) return last ? write_pending(seg) : Result<void>{};
  if (seg.pending.empty() && (data.size() >= kCoalesceWrites || last)) {
    // Large enough alone (or nothing more comes): no copy.
    if (auto r = file_->write_at(seg.cursor, data); !r) return r;
    seg.cursor += data.size();
    hash_ahead();
    return {};
  }
  if (seg.pending.capacity() < kCoalesceWrites) seg.pending.reserve(kCoalesceWrites);
  seg.pending.insert(seg.pending.end(), data.begin(), data.end());
  if (seg.pending.size() >= kCoalesceWrites || last) return write_pending(seg);
  return {};
}

DownloadTask::PersistWork DownloadTask::prepare_persist(const PersistJob& job) {
  // Every received byte goes to the file first, so the snapshot's offsets cover them (unless the
  // file is about to go: a cancel must not fail on a full disk).
  std::optional<Error> unwritten;
  for (auto& s : segments_) {
    if (job.discard_local) s->pending.clear();
    if (auto r = write_pending(*s); !r && !unwritten) unwritten = r.error();
  }
  if (unwritten) {
    // Bytes that did not fit (a full disk) are dropped (write_pending left nothing pending), and
    // with them every stream, which would append after them. This job still makes what is
    // written durable (a stop must still journal its state); the attempt fails right after.
    release_exchanges();
    boost::asio::post(host_.io(), [weak = weak_self(), error = *unwritten] {
      if (auto self = weak.lock()) self->fail_attempt(error, std::nullopt);
    });
  }
  // The snapshot is taken now, so every byte below these offsets was written before the sync
  // that the pool job is about to run.
  std::vector<store::SegmentRecord> segs;
  for (const auto& s : segments_)
    segs.push_back(store::SegmentRecord{record_.id, s->index, s->start, s->end, s->cursor});
  const files::FinalizeChecks checks = finalize_checks();

  PersistWork work;
  if (job.finalize) work.completed_digest = digest_;
  work.before_commit = [file = file_, &fs = host_.file_system(), digest = digest_,
                        part = part_path_, dest = record_.local_path, segs, checks,
                        sync_data = job.sync_data, finalize = job.finalize,
                        discard = job.discard_local](store::Batch& batch) -> Result<void> {
    if (finalize) {
      if (!file) return fail(ErrorCategory::Internal, "finalize without a part file");
      if (auto r = files::publish_part(fs, *file, part, dest, checks, *digest); !r) return r;
    } else if (sync_data && file) {
      if (auto r = file->sync_data(); !r) return r;
      crash_point("checkpoint-synced");
    }
    if (discard) {
      if (auto r = fs.remove(part); !r) return r;
      return {};
    }
    for (const auto& s : segs) batch.put_segment(s);
    return {};
  };
  if (job.finalize) work.directory_to_sync = files::parent_directory(record_.local_path);
  if (file_ && (job.finalize || job.sync_data) && !job.discard_local)
    work.start_flush = [file = file_] { file->start_writeback(); };
  work.applied = [this, segs] {
    for (const auto& s : segs)
      for (auto& seg : segments_)
        if (seg->index == s.index && seg->start == s.start) seg->durable = s.offset;
  };
  return work;
}

files::FinalizeChecks DownloadTask::finalize_checks() const {
  files::FinalizeChecks checks;
  checks.size = size_;
  checks.digests.server_digest = server_digest_;
  checks.digests.user_checksum = user_digest_;
  checks.digests.report = files::reported_algorithm(host_.config().report_digests, user_digest_);
  return checks;
}

void DownloadTask::hash_ahead() {
  if (phase_ != Phase::Running) return;
  hash_ahead_.offer(host_.pool(), file_, digest_, written_prefix(), finalize_checks().digests);
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
  for (const auto& s : segments_) total += s->received() - s->start;
  return total;
}

std::uint64_t DownloadTask::durable_bytes() const {
  std::uint64_t total = 0;
  for (const auto& s : segments_) total += s->durable - s->start;
  return total;
}

void DownloadTask::fill_status(TransferStatus& st) const {
  st.segments = static_cast<std::uint32_t>(segments_.size());
}

}  // namespace xfer::engine
