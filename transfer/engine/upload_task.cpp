#include "transfer/engine/upload_task.h"

#include <algorithm>
#include <filesystem>

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "base/crash_point.h"
#include "protocols/http/retry_after.h"
#include "protocols/upload/tus_fields.h"
#include "protocols/upload/interim_response.h"
#include "protocols/upload/upload_fields.h"
#include "transfer/engine/origin.h"
#include "transfer/engine/secrets.h"
#include "transfer/engine/upload_checks.h"

namespace xfer::engine {

using protocols::BodyRead;
using protocols::HttpRequest;
using protocols::ResponseHeaders;

namespace {
// Auto creation is careful from this size on: an optimistic creation that meets a server
// without resumable support would have to send it all again.
constexpr std::uint64_t kCarefulFrom = 16ull << 20;
constexpr int kMaxConflicts = 2;
constexpr int kMaxShrinks = 8;
constexpr int kMaxRestarts = 3;
constexpr int kMaxShortAcks = 16;
constexpr std::uint64_t kSmallestAppend = 64 << 10;
constexpr std::chrono::seconds kDeleteWait{5};
// Limits an origin announced are asked for again after this long: servers change them (a
// deployment's max-size), and the draft gives them no lifetime of their own.
constexpr std::chrono::hours kUploadLimitsFreshFor{1};
constexpr std::chrono::milliseconds kLongestRetryAfterSeen = std::chrono::hours(24 * 365 * 1000);
// A growing source: an append goes out once this much is there (unless the spec asks for other
// chunks), with all there is; a quiet source sends what it has after kLinger, so a slow producer's
// bytes reach the server (and are acknowledged) without waiting for a full chunk.
constexpr std::uint64_t kGrowingAppend = 16ull << 20;
constexpr std::chrono::milliseconds kLinger{1000};
// Empty completing appends answered "not complete" before the attempt is called a failure.
constexpr int kMaxEmptyCompletions = 2;

bool ok_status(int status) { return status >= 200 && status < 300; }

}  // namespace

// One exchange with the server and the slice of the source its body carries.
struct UploadTask::Exchange {
  Step step = Step::Create;
  std::string url;
  std::uint64_t body_from = 0;
  std::uint64_t body_to = 0;
  std::uint64_t cursor = 0;  // next source byte to hand to the transport
  std::optional<ResponseHeaders> head;
  std::optional<Error> local_error;  // a read failed: the exchange is abandoned with this
  std::shared_ptr<Sink> sink;
  std::unique_ptr<protocols::HttpStream> stream;
};

class UploadTask::Sink final : public protocols::ExchangeSink {
 public:
  Sink(std::weak_ptr<UploadTask> task, Exchange* ex) : task_(std::move(task)), ex_(ex) {}
  bool detached = false;

  void on_interim(const ResponseHeaders& interim) override {
    if (auto t = live()) t->on_interim(*ex_, interim);
  }
  void on_response_head(const ResponseHeaders& head) override {
    if (auto t = live()) t->on_head(*ex_, head);
  }
  protocols::BodyAction on_body(std::span<const std::uint8_t>) override {
    return protocols::BodyAction::Continue;  // problem details and the like: not needed
  }
  BodyRead read_body(std::span<std::uint8_t> buffer) override {
    if (auto t = live()) return t->read_body(*ex_, buffer);
    return BodyRead{0, true};
  }
  void on_complete(Result<void> outcome) override {
    if (auto t = live()) t->on_complete(*ex_, std::move(outcome));
  }
  bool can_replay_body() const override { return true; }  // the source can be read again
  bool rewind_body() override {
    if (detached) return false;
    ex_->cursor = ex_->body_from;
    return true;
  }

 private:
  std::shared_ptr<UploadTask> live() { return detached ? nullptr : task_.lock(); }
  std::weak_ptr<UploadTask> task_;
  Exchange* ex_;
};

UploadTask::UploadTask(TaskHost& host, store::TransferRecord record, store::UploadRecord upload,
                       std::optional<store::OriginRecord> origin)
    : TaskCore(host, std::move(record)),
      upload_(std::move(upload)),
      origin_record_(std::move(origin)),
      delete_timer_(host.io()),
      linger_timer_(host.io()) {
  acked_ = durable_acked_ = upload_.acked_offset;
  // Known before any attempt: a cancel of a task that never ran still speaks it (DELETE). An
  // unknown version is refused by prepare().
  if (const auto d = protocols::dialect_for(static_cast<int>(upload_.interop_version))) dialect_ = *d;
  // Journaled Active: the process that ran it died mid-attempt.
  interrupted_ = record_.state == TransferState::Active;
}

UploadTask::~UploadTask() {
  release_exchanges();
  delete_timer_.cancel();
  linger_timer_.cancel();
}

// ---- attempts --------------------------------------------------------------------------------

Result<void> UploadTask::prepare() {
  conflicts_ = shrinks_ = restarts_ = short_acks_ = empty_completions_ = 0;
  tus_length_declared_ = false;
  resynced_after_refusal_ = false;
  append_cap_ = 0;
  if (!protocols::dialect_for(static_cast<int>(upload_.interop_version)))
    return fail(ErrorCategory::InvalidArgument,
                fmt::format("interop version {} is not one xfer speaks", upload_.interop_version));
  auto target = protocols::Url::parse_http(record_.url);
  if (!target) return std::unexpected(target.error());
  target_ = std::move(*target);
  if (!record_.checksum.empty()) {
    auto digest = protocols::parse_user_checksum(record_.checksum);
    if (!digest) return std::unexpected(digest.error());
    checksum_ = *digest;
  }

  files::PathInfo info;
  auto source = host_.file_system().open_source(record_.local_path, info);
  if (!source) return std::unexpected(source.error());
  source_ = std::shared_ptr<files::File>(std::move(*source));
  source_digest_ = std::make_shared<files::PrefixDigest>();
  const bool identified = upload_.source_mtime_ns != 0 || upload_.source_inode != 0;
  const bool same_file = upload_.source_inode == info.identity.inode &&
                         upload_.source_device == info.identity.device;
  // A growing source changes its size and mtime by design: only being another file counts.
  const bool same = same_file && (growing() || (upload_.source_size == info.size &&
                                                upload_.source_mtime_ns == info.mtime_ns));
  if (identified && !same) {
    if (!upload_.restart_if_source_changed)
      return fail(ErrorCategory::InvalidArgument,
                  fmt::format("{} changed since its upload began (size {} → {}, or its modification "
                              "time or inode): its bytes on the server are not this file's; start "
                              "a new upload (or allow restarts when the source changes)",
                              record_.local_path, upload_.source_size, info.size));
    emit(EventKind::Restarted, "the source changed; starting a new upload from zero");
    upload_.resource_url.clear();
    upload_.sent_bound.reset();
    acked_ = durable_acked_ = 0;
  }
  if (growing()) {
    // Only announced bytes are read; the journal keeps what was announced by the last
    // checkpoint, this process what was announced since.
    available_ = std::max(upload_.source_size, host_.announced_source_size(record_.id));
    if (info.size < available_)
      return fail(ErrorCategory::InvalidArgument,
                  fmt::format("{} has {} bytes, fewer than the {} announced: it was cut short",
                              record_.local_path, info.size, available_));
    record_source_identity(upload_, info);
    upload_.source_size = available_;  // what was announced, not what the file holds
    size_.reset();
    record_.size.reset();
  } else {
    if (!identified || !same) record_source_identity(upload_, info);
    size_ = upload_.source_size;
    record_.size = size_;
  }
  // A journal that says otherwise is wrong; without a resource nothing can be acknowledged.
  if (acked_ > readable() || upload_.resource_url.empty()) acked_ = durable_acked_ = 0;

  if (origin_record_ && origin_record_->upload_interop_version != 0)
    limits_ = origin_record_->upload_limits;
  // Refused before any byte is sent: the server said it takes nothing this large.
  if (auto r = protocols::check_total_size(limits_, readable()); !r) return r;
  return {};
}

void UploadTask::launch() {
  if (upload_.protocol == UploadProtocol::Plain)
    send_plain();
  else if (!upload_.resource_url.empty())
    retrieve_offset();
  else if (tus() ? !tus_caps_ : !limits_known())
    discover();
  else
    create();
}

bool UploadTask::limits_known() const {
  if (!dialect_.has_upload_limit || limits_discovered_) return true;  // nothing to ask before 6
  if (!origin_record_ || origin_record_->upload_interop_version == 0) return false;
  return unix_now() - origin_record_->updated_at <
         std::chrono::duration_cast<std::chrono::milliseconds>(kUploadLimitsFreshFor).count();
}

void UploadTask::discover() {
  if (tus()) {
    // OPTIONS carries no Tus-Resumable (tus 1.0 core).
    spdlog::debug("transfer {}: asking {} which tus extensions it has", record_.id, record_.url);
    start_exchange(Step::Discover, request_to("OPTIONS", record_.url), 0, 0);
    return;
  }
  // The draft's discovery request: OPTIONS without Upload-Complete, answered with Upload-Limit.
  spdlog::debug("transfer {}: asking {} for its upload limits", record_.id, record_.url);
  start_exchange(Step::Discover, base_request("OPTIONS", record_.url), 0, 0);
}

void UploadTask::after_discover(Exchange& ex) {
  const ResponseHeaders head = *ex.head;
  release_exchanges();
  if (head.status >= 500 || head.status == 429) {
    fail_status(head, "the OPTIONS request");
    return;
  }
  if (!tus()) {
    after_limit_discovery(head);
    return;
  }
  if (!ok_status(head.status) || !head.find("tus-version")) {
    // Some deployments answer OPTIONS only for CORS: assume core and creation, nothing more,
    // and let the creation itself tell.
    spdlog::debug("transfer {}: OPTIONS answered {} without Tus-Version; assuming tus 1.0 core "
                  "with creation", record_.id, head.status);
    tus_caps_ = protocols::TusCapabilities{{std::string(protocols::kTusVersion)}, {"creation"}, {}, {}};
    tus_guessed_ = true;
  } else {
    auto caps = protocols::parse_tus_capabilities(head);
    if (!caps) {
      fail_protocol(caps.error().message());
      return;
    }
    tus_caps_ = std::move(*caps);
  }
  if (!tus_caps_->speaks_1_0()) {
    fail_attempt(Error(ErrorCategory::Protocol,
                       fmt::format("the server speaks tus {}, not {}", fmt::join(tus_caps_->versions, ", "),
                                   protocols::kTusVersion)),
                 std::nullopt);
    return;
  }
  if (!tus_caps_->has("creation")) {
    fail_attempt(Error(ErrorCategory::Protocol,
                       fmt::format("the tus server has no creation extension (Tus-Extension: {}): "
                                   "xfer cannot create an upload there",
                                   fmt::join(tus_caps_->extensions, ","))),
                 std::nullopt);
    return;
  }
  if (tus_caps_->max_size) {
    // Refused before any byte is sent.
    limits_.max_size = tus_caps_->max_size;
    if (auto r = protocols::check_total_size(limits_, readable()); !r) {
      finish(TransferState::Failed, r.error().message(), false, true, r.error());
      return;
    }
  }
  create();
}

void UploadTask::after_limit_discovery(const ResponseHeaders& head) {
  // OPTIONS is optional for servers before interop 8 and often answered only for CORS: without
  // an Upload-Limit the creation's responses still tell, so this is never a reason to stop.
  limits_discovered_ = true;
  if (ok_status(head.status) && head.find("upload-limit")) {
    // Above max-size: refused before any byte is sent (the next run asks again).
    if (!learn_limits(head)) return;
  } else {
    spdlog::debug("transfer {}: OPTIONS answered {} without Upload-Limit; limits unknown until "
                  "the creation answers", record_.id, head.status);
  }
  create();
}

void UploadTask::send_plain() {
  if (growing()) {
    await_source([this] { send_plain(); }, false);  // one request of the whole: needs the end
    return;
  }
  // A plain upload cannot resume: an attempt after one that sent bytes sends every byte again,
  // which is safe for an idempotent method only, unless the spec allows it.
  const bool idempotent = upload_.method == "PUT" || upload_.replay_non_idempotent;
  if (interrupted_ && !idempotent) {
    refuse_replay("an earlier run was cut off while sending it");
    return;
  }
  if (interrupted_ || record_.attempt_count > 1)
    emit(EventKind::Restarted,
         fmt::format("plain {}: the server cannot resume, sending all {} bytes again", upload_.method,
                     *size_));
  acked_ = 0;
  HttpRequest request = request_to(upload_.method, record_.url);
  if (checksum_) request.headers.emplace_back("Repr-Digest", protocols::format_digest_field(*checksum_));
  request.body_length = *size_;
  spdlog::debug("transfer {}: plain {} of {} bytes", record_.id, upload_.method, *size_);
  if (idempotent) {
    start_exchange(Step::Plain, std::move(request), 0, *size_);
    return;
  }
  // Journaled as Active before the first byte, so that after a crash the next run knows this
  // POST may have reached the server.
  PersistJob job;
  job.sync_data = false;
  job.then = [weak = std::weak_ptr<UploadTask>(self()), request = std::move(request)](Result<void> r) mutable {
    auto t = weak.lock();
    if (!t || t->phase_ != Phase::Running) return;
    if (!r) {
      t->fail_attempt(r.error(), std::nullopt);
      return;
    }
    t->start_exchange(Step::Plain, std::move(request), 0, *t->size_);
  };
  persist(std::move(job));
}

void UploadTask::refuse_replay(const std::string& why) {
  const std::string message = fmt::format(
      "the {} is not sent again: {} (it is not idempotent; allow replays to send it again from "
      "zero)", upload_.method, why);
  finish(TransferState::Failed, message, false, true,
         Error(ErrorCategory::InvalidArgument, message));
}

void UploadTask::after_plain(Exchange& ex) {
  const ResponseHeaders head = *ex.head;
  const std::uint64_t sent = ex.body_to;
  release_exchanges();
  if (!ok_status(head.status)) {
    fail_status(head, "the " + upload_.method);
    return;
  }
  acked_ = sent;
  TaskCore::complete(fmt::format("{} bytes", *size_));
}

bool UploadTask::careful_creation() const {
  // A growing source has nothing to put on a creation that must go out now.
  if (growing()) return true;
  // tus: without creation-with-upload the body cannot ride on the creation at all.
  if (tus() && !(tus_caps_ && tus_caps_->has("creation-with-upload"))) return true;
  switch (upload_.creation) {
    case UploadCreation::Optimistic: return false;
    case UploadCreation::Careful: return true;
    case UploadCreation::Auto: break;
  }
  // tus names the resource only when a creation-with-upload ends (no 104): a large file cut
  // off mid-creation would be sent again from zero.
  const bool known_resumable = !tus() && origin_record_ && origin_record_->upload_interop_version != 0;
  return known_resumable || size_.value_or(0) >= kCarefulFrom;
}

HttpRequest UploadTask::base_request(const std::string& method, const std::string& url) const {
  HttpRequest request = request_to(method, url);
  if (tus())
    request.headers.emplace_back(std::string(protocols::kTusResumableHeader),
                                 std::string(protocols::kTusVersion));
  else
    request.headers.push_back(protocols::interop_version_header(dialect_));
  return request;
}

void UploadTask::create() {
  const bool defer_length = growing() && tus() && tus_caps_ && tus_caps_->has("creation-defer-length");
  if (growing() && tus() && !defer_length) {
    // The server wants the length at creation: it is known at the end.
    spdlog::debug("transfer {}: the tus server has no creation-defer-length; waiting for the "
                  "source to end", record_.id);
    await_source([this] { create(); }, false);
    return;
  }
  const std::uint64_t size = readable();
  acked_ = 0;  // a new resource: nothing of it is acknowledged
  HttpRequest request = base_request("POST", record_.url);
  if (tus()) {
    // tus declares the length on the creation, or defers it to a PATCH; the file name travels
    // as metadata.
    if (defer_length) {
      request.headers.emplace_back("Upload-Defer-Length", "1");
    } else if (auto length = protocols::format_upload_integer(size)) {
      request.headers.emplace_back("Upload-Length", *length);
      tus_length_declared_ = true;
    }
    request.headers.emplace_back(
        "Upload-Metadata",
        protocols::format_tus_metadata({{"filename", std::filesystem::path(record_.local_path).filename().string()}}));
  }
  std::uint64_t body_to = 0;
  if (!careful_creation()) {
    // Optimistic: the first append's worth of bytes rides on the creation request.
    auto n = protocols::next_append_size(limits_, size, upload_.chunk_size ? upload_.chunk_size : size);
    if (!n) {
      fail_attempt(n.error(), std::nullopt);
      return;
    }
    body_to = *n;
  }
  if (tus()) {
    if (body_to > 0)
      request.headers.emplace_back("Content-Type", std::string(protocols::kTusBodyMediaType));
  } else {
    add_upload_fields(request, size_ && body_to == *size_);
  }
  request.body_length = body_to;
  spdlog::debug("transfer {}: creating the upload ({}, {} of {} bytes)", record_.id,
                body_to == 0 ? "careful" : "optimistic", body_to, size);
  start_exchange(Step::Create, std::move(request), 0, body_to);
}

void UploadTask::add_upload_fields(HttpRequest& request, bool completes) const {
  request.headers.push_back(protocols::completion_header(dialect_, completes));
  if (dialect_.has_upload_length && size_) {
    if (auto length = protocols::format_upload_integer(*size_))
      request.headers.emplace_back("Upload-Length", *length);
  }
  if (completes && checksum_)
    request.headers.emplace_back("Repr-Digest", protocols::format_digest_field(*checksum_));
}

void UploadTask::retrieve_offset() {
  HttpRequest request = base_request("HEAD", upload_.resource_url);
  spdlog::debug("transfer {}: asking {} for its offset", record_.id, upload_.resource_url);
  start_exchange(Step::Retrieve, std::move(request), 0, 0);
}

void UploadTask::append(std::uint64_t from) {
  std::uint64_t n = 0;
  length_in_flight_ = false;
  if (growing()) {
    const std::uint64_t ready = available_ - std::min(from, available_);
    // An append carries everything read so far (within the spec's chunk size and the limits):
    // a source that outruns the network needs fewer, larger appends.
    std::uint64_t cap = upload_.chunk_size ? upload_.chunk_size : UINT64_MAX;
    if (append_cap_) cap = std::min(cap, append_cap_);
    if (limits_.max_append_size) cap = std::min(cap, *limits_.max_append_size);
    // Every append but the last must reach min-append-size.
    const std::uint64_t least = std::max<std::uint64_t>(1, limits_.min_append_size.value_or(1));
    const std::uint64_t start_at = std::max(std::min(cap, kGrowingAppend), least);
    if (ready < start_at && !(linger_due_ && ready >= least)) {
      await_source([this, from] { append(from); }, ready > 0);
      return;
    }
    n = std::min(ready, std::max(cap, least));
  } else {
    const std::uint64_t size = *size_;
    std::uint64_t preferred = upload_.chunk_size ? upload_.chunk_size : size - from;
    if (append_cap_) preferred = std::min(preferred, append_cap_);
    auto next = protocols::next_append_size(limits_, size - from, preferred);
    if (!next) {
      fail_attempt(next.error(), std::nullopt);
      return;
    }
    n = *next;
    // Nothing left to send, yet the server was never told the upload is complete (the source
    // ended after its last byte went out): an empty append says so.
    if (n == 0 && ++empty_completions_ > kMaxEmptyCompletions) {
      fail_protocol(fmt::format("the server has all {} bytes but does not take the append that "
                                "completes the upload", size));
      return;
    }
  }
  linger_due_ = false;
  const std::uint64_t to = from + n;
  const bool completes = size_ && to == *size_;
  completing_in_flight_ = completes;
  HttpRequest request = base_request("PATCH", upload_.resource_url);
  auto offset = protocols::format_upload_integer(from);
  if (!offset) {
    fail_protocol(fmt::format("offset {} cannot be sent as Upload-Offset", from));
    return;
  }
  request.headers.emplace_back("Upload-Offset", *offset);
  if (tus()) {
    // Completion is the offset reaching the Upload-Length: no field for it. A deferred length
    // goes on the first PATCH after the source ended.
    request.headers.emplace_back("Content-Type", std::string(protocols::kTusBodyMediaType));
    if (size_ && !tus_length_declared_) {
      if (auto length = protocols::format_upload_integer(*size_)) {
        request.headers.emplace_back("Upload-Length", *length);
        length_in_flight_ = true;
      }
    }
  } else {
    if (dialect_.patch_requires_media_type)
      request.headers.emplace_back("Content-Type", std::string(protocols::kPartialUploadMediaType));
    add_upload_fields(request, completes);
  }
  request.body_length = n;
  spdlog::debug("transfer {}: appending bytes {}..{} of {}", record_.id, from, to,
                size_ ? fmt::to_string(*size_) : std::string("a growing source"));
  if (!upload_.sent_bound || *upload_.sent_bound >= to) {
    start_exchange(Step::Append, std::move(request), from, to);
    return;
  }
  // The bound goes up, durably, before the bytes that need it go out.
  upload_.sent_bound = to;
  PersistJob job;
  job.sync_data = false;
  job.then = [weak = std::weak_ptr<UploadTask>(self()), request = std::move(request), from,
              to](Result<void> r) mutable {
    auto t = weak.lock();
    if (!t || t->phase_ != Phase::Running) return;
    if (!r) {
      t->fail_attempt(r.error(), std::nullopt);
      return;
    }
    t->start_exchange(Step::Append, std::move(request), from, to);
  };
  persist(std::move(job));
}

void UploadTask::start_exchange(Step step, HttpRequest request, std::uint64_t body_from,
                                std::uint64_t body_to) {
  release_exchanges();
  exchange_ = std::make_unique<Exchange>();
  exchange_->step = step;
  exchange_->url = request.url;
  exchange_->body_from = exchange_->cursor = body_from;
  exchange_->body_to = body_to;
  exchange_->sink = std::make_shared<Sink>(self(), exchange_.get());
  send_paused_ = false;
  auto stream = host_.transport().start(request, *exchange_->sink);
  if (!stream) {
    fail_attempt(stream.error(), std::nullopt);
    return;
  }
  if (!exchange_) return;  // a transport that completed inside start()
  exchange_->stream = std::move(*stream);
}

void UploadTask::release_exchanges() {
  stop_awaiting_source();
  if (!exchange_) return;
  if (exchange_->sink) exchange_->sink->detached = true;
  // Streams are destroyed at the loop boundary, never inside one of their own callbacks; the
  // Exchange goes with them because the sink points into it.
  std::shared_ptr<Exchange> ex(std::move(exchange_));
  boost::asio::post(host_.io(), [ex]() mutable {
    ex->stream.reset();
    ex->sink.reset();
    ex.reset();
  });
}

void UploadTask::resume_paused() {
  if (!send_paused_ || !exchange_ || !exchange_->stream) return;
  send_paused_ = false;
  exchange_->stream->resume_send();
}

// ---- exchange callbacks ----------------------------------------------------------------------

BodyRead UploadTask::read_body(Exchange& ex, std::span<std::uint8_t> buffer) {
  if (phase_ != Phase::Running || ex.local_error) return BodyRead{0, true};
  if (send_paused_) return BodyRead{0, true};
  if (ex.cursor >= ex.body_to) return BodyRead{0, false};
  const std::uint64_t want = std::min<std::uint64_t>(buffer.size(), ex.body_to - ex.cursor);
  auto got = source_->read_at(ex.cursor, buffer.first(static_cast<std::size_t>(want)));
  if (!got || *got == 0) {
    // Abandon the exchange outside the transport's callback.
    ex.local_error = got ? Error(ErrorCategory::InvalidArgument,
                                 fmt::format("{} became shorter while being uploaded (no byte at "
                                             "{}): it is being changed",
                                             record_.local_path, ex.cursor))
                         : got.error();
    boost::asio::post(host_.io(), [weak = std::weak_ptr<UploadTask>(self()), e = *ex.local_error] {
      if (auto t = weak.lock()) t->fail_attempt(e, std::nullopt);
    });
    return BodyRead{0, true};
  }
  ex.cursor += *got;
  hash_ahead(ex.cursor);
  if (pace(*got)) send_paused_ = true;  // these bytes go; the next read waits
  return BodyRead{*got, false};
}

void UploadTask::on_interim(Exchange& ex, const ResponseHeaders& interim) {
  // tus has no interim responses of its own.
  if (phase_ != Phase::Running || tus() || ex.step == Step::Retrieve || ex.step == Step::Delete ||
      ex.step == Step::Plain || ex.step == Step::Discover)
    return;
  // After a 307/308 a relative Location names a resource beside the URL that answered.
  if (!interim.url.empty()) ex.url = interim.url;
  const auto request_url = protocols::Url::parse_http(ex.url);
  if (!request_url) return;
  const std::optional<std::string> known =
      upload_.resource_url.empty() ? std::nullopt : std::optional<std::string>(upload_.resource_url);
  const auto d = protocols::judge_interim(interim, dialect_, *request_url, known, acked_);
  switch (d.verdict) {
    case protocols::InterimVerdict::Ignore: return;
    case protocols::InterimVerdict::Violation: fail_protocol(d.reason); return;
    case protocols::InterimVerdict::Accept: break;
  }
  if (d.limits && !adopt_limits(*d.limits)) return;
  if (d.upload_url && upload_.resource_url.empty()) {
    // The body keeps streaming while the URL is made durable.
    learn_resource(*d.upload_url, ex.body_to, nullptr);
  }
  // An offset means something only for a known resource (a lost first 104 leaves none).
  if (d.offset && !upload_.resource_url.empty()) {
    if (auto r = acknowledge(*d.offset, ex.cursor, "a 104"); !r) {
      fail_protocol(r.error().message());
      return;
    }
    maybe_checkpoint(false);
  }
}

void UploadTask::on_head(Exchange& ex, const ResponseHeaders& head) {
  if (ex.step == Step::Delete) {
    ex.head = head;
    return;
  }
  if (phase_ != Phase::Running) return;
  learn_from_head(ex.stream.get(), head, ex.url);
  if (!head.url.empty()) ex.url = head.url;
  ex.head = head;
}

void UploadTask::on_complete(Exchange& ex, Result<void> outcome) {
  if (ex.step == Step::Delete) {
    if (!outcome || !ex.head || !ok_status(ex.head->status))
      spdlog::debug("transfer {}: DELETE of {} did not succeed", record_.id, ex.url);
    delete_timer_.cancel();
    release_exchanges();
    if (auto then = std::move(after_delete_)) then();
    return;
  }
  if (phase_ != Phase::Running) return;
  if (ex.local_error) return;  // already failing
  if (!outcome && ex.step == Step::Plain && ex.cursor > 0 && upload_.method != "PUT" &&
      !upload_.replay_non_idempotent) {
    release_exchanges();
    refuse_replay(fmt::format("it was cut off after {} bytes ({})", ex.cursor,
                              outcome.error().message()));
    return;
  }
  if (!outcome) {
    release_exchanges();
    fail_attempt(outcome.error(), std::nullopt);
    return;
  }
  if (!ex.head) {
    release_exchanges();
    fail_protocol("the exchange ended without a response");
    return;
  }
  switch (ex.step) {
    case Step::Discover: after_discover(ex); break;
    case Step::Create: tus() ? after_tus_create(ex) : after_create(ex); break;
    case Step::Retrieve: after_retrieve(ex); break;
    case Step::Append: after_append(ex); break;
    case Step::Plain: after_plain(ex); break;
    case Step::Delete: break;
  }
}

void UploadTask::after_create(Exchange& ex) {
  const ResponseHeaders head = *ex.head;
  const std::uint64_t sent_end = ex.body_to;
  // Only what the transport took from the file can have reached the server.
  const std::uint64_t handed = std::min(ex.cursor, ex.body_to);
  const bool completed_request = size_ && sent_end == *size_;
  const std::string request_url = ex.url;
  release_exchanges();
  if (head.status == 413 && ++shrinks_ <= kMaxShrinks) {
    if (!learn_limits(head)) return;
    if (!upload_.resource_url.empty()) {
      retrieve_offset();  // a 104 named the resource: continue there within the limits
      return;
    }
    // Too large to ride on the creation: create carefully, then append within the limits.
    upload_.creation = UploadCreation::Careful;
    create();
    return;
  }
  if (!ok_status(head.status)) {
    // An optimistic creation whose 104 named a resource continues there after the retry.
    fail_status(head, "the creation request");
    return;
  }
  if (!learn_limits(head)) return;
  std::optional<std::string> location;
  if (const auto* loc = head.find("location")) {
    const auto base = protocols::Url::parse_http(request_url);
    if (!base) {
      fail_protocol(base.error().message());
      return;
    }
    const std::optional<std::string> known =
        upload_.resource_url.empty() ? std::nullopt : std::optional<std::string>(upload_.resource_url);
    auto url = protocols::resolve_resource_location(*loc, *base, known);
    if (!url) {
      fail_protocol("the creation response's " + url.error().message());
      return;
    }
    location = std::move(*url);
  }
  const std::optional<bool> complete = completion_in(head);
  if (completed_request && complete.value_or(true)) {
    // Every byte went with the creation and the server took it (resumable or not).
    acked_ = sent_end;
    if (location && upload_.resource_url.empty()) upload_.resource_url = *location;
    TaskCore::complete(fmt::format("{} bytes", *size_));
    return;
  }
  if (complete == true) {
    fail_protocol(fmt::format("the server says the upload is complete after {} of {} bytes",
                              handed, readable()));
    return;
  }
  // Appending needs evidence that this is a resumable upload: a 104 that named the resource, or
  // a creation response with a Location and the completion field (a plain REST server's 201
  // and Location are not an upload resource).
  if (upload_.resource_url.empty() && (!location || !complete.has_value())) {
    fail_protocol(fmt::format("the server answered {} to an incomplete creation without naming "
                              "an upload resource ({}): it does not support resumable uploads at "
                              "interop version {} (try another interop version, an optimistic "
                              "creation, or a plain PUT)",
                              head.status, location ? "no completion field" : "no Location",
                              dialect_.interop_version));
    return;
  }
  const auto reported = offset_in(head, handed);
  if (!reported) return;
  if (auto r = acknowledge(*reported, handed, "the creation response"); !r) {
    fail_protocol(r.error().message());
    return;
  }
  learn_resource(upload_.resource_url.empty() ? *location : upload_.resource_url, sent_end,
                 [this] { append(acked_); });
}

void UploadTask::after_tus_create(Exchange& ex) {
  const ResponseHeaders head = *ex.head;
  const std::uint64_t handed = std::min(ex.cursor, ex.body_to);
  const std::uint64_t sent_to = ex.body_to;
  const bool sent_body = ex.body_to > 0;
  const std::string request_url = ex.url;
  release_exchanges();
  if (head.status == 412) {
    fail_tus_version(head);
    return;
  }
  if (head.status == 413) {
    // Too large for this server (it may not have said so in Tus-Max-Size): no retry helps.
    const std::string message =
        size_ ? fmt::format("the tus server refuses an upload of {} bytes (413)", *size_)
              : std::string("the tus server refuses an upload of unknown length (413)");
    finish(TransferState::Failed, message, false, true, Error(ErrorCategory::HttpStatus, message, false, 413));
    return;
  }
  if (!ok_status(head.status)) {
    fail_status(head, tus_guessed_ ? "the tus creation request (its OPTIONS named no Tus-Version: "
                                     "it may not be a tus server)"
                                   : "the tus creation request");
    return;
  }
  const auto* loc = head.find("location");
  if (!loc) {
    fail_protocol(fmt::format("the tus server answered {} to the creation without a Location", head.status));
    return;
  }
  const auto base = protocols::Url::parse_http(request_url);
  if (!base) {
    fail_protocol(base.error().message());
    return;
  }
  auto url = protocols::resolve_resource_location(*loc, *base, std::nullopt);
  if (!url) {
    fail_protocol("the creation response's " + url.error().message());
    return;
  }
  learn_expiry(head);
  bool ask = false;  // the server kept an unknown part of the body: ask before appending
  if (sent_body) {
    const auto* value = head.find("upload-offset");
    const auto offset = value ? protocols::parse_tus_integer(*value) : std::nullopt;
    if (value && !offset) {
      fail_protocol(fmt::format("Upload-Offset '{}' is not an offset", *value));
      return;
    }
    if (offset) {
      if (auto r = acknowledge(*offset, handed, "the creation response"); !r) {
        fail_protocol(r.error().message());
        return;
      }
    } else {
      ask = true;
    }
  }
  learn_resource(*url, sent_to, [this, ask] {
    if (ask)
      retrieve_offset();
    else if (size_ && acked_ == *size_ && tus_length_declared_)
      TaskCore::complete(fmt::format("{} bytes", *size_));
    else
      append(acked_);
  });
}

void UploadTask::after_retrieve(Exchange& ex) {
  const ResponseHeaders head = *ex.head;
  release_exchanges();
  if (tus() && head.status == 412) {
    fail_tus_version(head);
    return;
  }
  if (!resource_answered(head, "the offset retrieval")) return;
  if (!learn_limits(head)) return;
  learn_expiry(head);
  const auto* value = head.find("upload-offset");
  const auto offset = !value ? std::nullopt
                      : tus() ? protocols::parse_tus_integer(*value)
                              : protocols::parse_upload_offset(*value);
  if (!offset) {
    fail_protocol(value ? fmt::format("Upload-Offset '{}' is not an offset", *value)
                        : "the offset retrieval answered without Upload-Offset");
    return;
  }
  if (tus()) {
    // The length the upload was created with; another one is another upload.
    const auto* length = head.find("upload-length");
    const auto declared = length ? protocols::parse_tus_integer(*length) : std::nullopt;
    if (length && (!size_ || declared != *size_)) {
      fail_protocol(size_ ? fmt::format("the upload on the server is declared {} bytes long "
                                        "(Upload-Length '{}'), the file has {}",
                                        declared.value_or(0), *length, *size_)
                          : fmt::format("the upload on the server is declared {} bytes long "
                                        "(Upload-Length '{}'), but its source has not ended",
                                        declared.value_or(0), *length));
      return;
    }
    tus_length_declared_ = length != nullptr;
  }
  const std::optional<bool> complete =
      tus() ? std::optional<bool>(size_ && *offset == *size_ && tus_length_declared_)
            : completion_in(head);
  if (*offset > readable()) {
    fail_protocol(size_ ? fmt::format("the server claims {} bytes of a {}-byte file", *offset, *size_)
                        : fmt::format("the server claims {} bytes, but only {} were read so far",
                                      *offset, readable()));
    return;
  }
  if (upload_.sent_bound && *offset > *upload_.sent_bound) {
    fail_protocol(fmt::format("the server claims {} bytes, but no more than {} were ever sent to it",
                              *offset, *upload_.sent_bound));
    return;
  }
  if (*offset < acked_) {
    // It lost bytes it had acknowledged (a crash on its side): they are sent again, and said so.
    if (++restarts_ > kMaxRestarts) {
      fail_protocol("the server keeps losing bytes it acknowledged");
      return;
    }
    emit(EventKind::Restarted,
         fmt::format("the server went back from offset {} to {}; resending from there", acked_,
                     *offset));
    acked_ = *offset;
    PersistJob job;
    job.sync_data = false;
    persist(std::move(job));
  } else {
    acked_ = *offset;
  }
  if (complete.value_or(false)) {
    if (!size_ || *offset != *size_) {
      fail_protocol(fmt::format("the server says the upload is complete at {} of {} bytes",
                                *offset, size_ ? fmt::to_string(*size_) : std::string("a growing source's")));
      return;
    }
    TaskCore::complete(fmt::format("{} bytes", *size_));
    return;
  }
  maybe_checkpoint(true);
  append(acked_);
}

void UploadTask::after_append(Exchange& ex) {
  const ResponseHeaders head = *ex.head;
  const std::uint64_t from = ex.body_from;
  // Only what the transport took from the file can have reached the server.
  const std::uint64_t sent_end = std::min(ex.cursor, ex.body_to);
  const bool all_handed = ex.cursor >= ex.body_to;
  release_exchanges();
  if (head.status == 409) {
    // The server holds another offset: it is a hint, confirmed by asking again. A 409 at the
    // very offset the server just reported means it is still busy with an earlier request
    // (one cut off by a crash of ours, say): that passes, so try again later.
    if (++conflicts_ > kMaxConflicts) {
      fail_attempt(Error(ErrorCategory::HttpStatus,
                         fmt::format("the server answered 409 to {} appends at the offset it "
                                     "reported ({}); it may still be busy with an earlier request",
                                     conflicts_ - 1, from),
                         true, 409),
                   std::nullopt);
      return;
    }
    spdlog::debug("transfer {}: 409 at offset {}; asking again", record_.id, from);
    retrieve_offset();
    return;
  }
  if (head.status == 413) {
    const std::uint64_t was = ex.body_to - from;
    if (!learn_limits(head)) return;
    const bool limit_helps = limits_.max_append_size && *limits_.max_append_size < was;
    if (++shrinks_ > kMaxShrinks || (was <= kSmallestAppend && !limit_helps)) {
      fail_status(head, "the append");
      return;
    }
    append_cap_ = std::max(kSmallestAppend, was / 2);
    if (limits_.max_append_size) append_cap_ = std::min(append_cap_, *limits_.max_append_size);
    // The server may have kept some of the refused bytes: ask before sending again.
    retrieve_offset();
    return;
  }
  if (head.status >= 400 && head.status < 500 && head.status != 404 && head.status != 410 &&
      !resynced_after_refusal_) {
    // A refusal may only mean the server moved on meanwhile: an earlier request (one a crash
    // of ours cut off) completed the upload, or appended what we are sending. Ask once where it
    // stands before calling it a failure.
    resynced_after_refusal_ = true;
    spdlog::debug("transfer {}: append refused with {}; asking for the offset", record_.id,
                  head.status);
    retrieve_offset();
    return;
  }
  if (!resource_answered(head, "the append")) return;
  if (!learn_limits(head)) return;
  learn_expiry(head);
  if ((tus() || !all_handed) && !head.find("upload-offset")) {
    // Answered before it had the whole append, or (tus) not saying how much it kept: ask.
    retrieve_offset();
    return;
  }
  const auto reported = offset_in(head, sent_end);
  if (!reported) return;
  const std::uint64_t offset = *reported;
  if (offset < from) {
    fail_protocol(fmt::format("the append at {} was answered with the lower offset {}", from, offset));
    return;
  }
  if (auto r = acknowledge(offset, sent_end, "the append response"); !r) {
    fail_protocol(r.error().message());
    return;
  }
  // tus: a PATCH that carried the deferred Upload-Length and was taken declared it.
  if (length_in_flight_) tus_length_declared_ = true;
  if (size_ && offset == *size_ && !(tus() && !tus_length_declared_)) {
    if (!tus() && !completing_in_flight_) {
      // The source ended while this append (marked not complete) was under way: the server
      // has every byte but was never told it is the end. An empty append tells it.
      append(offset);
      return;
    }
    if (completion_in(head) == false) {
      // Every byte arrived but the server does not call it complete: ask where it stands.
      retrieve_offset();
      return;
    }
    TaskCore::complete(fmt::format("{} bytes", *size_));
    return;
  }
  if (offset < sent_end && ++short_acks_ > kMaxShortAcks) {
    fail_protocol("the server keeps acknowledging only part of each append");
    return;
  }
  maybe_checkpoint(false);
  append(offset);
}

// ---- what the server told us -----------------------------------------------------------------

std::optional<bool> UploadTask::completion_in(const ResponseHeaders& head) const {
  if (tus()) return std::nullopt;  // tus: complete is the offset reaching Upload-Length
  const auto* value =
      head.find(dialect_.completion_inverted ? "upload-incomplete" : "upload-complete");
  return value ? protocols::parse_completion(dialect_, *value) : std::nullopt;
}

Result<void> UploadTask::acknowledge(std::uint64_t offset, std::uint64_t sent_end, const char* where) {
  if (offset > sent_end || offset > readable())
    return fail(ErrorCategory::Protocol,
                fmt::format("{} acknowledged offset {}, beyond the {} bytes sent", where, offset,
                            std::min(sent_end, readable())));
  if (offset > acked_) acked_ = offset;
  return {};
}

void UploadTask::learn_expiry(const ResponseHeaders& head) {
  if (!tus()) return;
  const auto* value = head.find("upload-expires");
  if (!value) return;
  if (const auto at = protocols::parse_http_date(*value))
    upload_.expires_at = *at * 1000;
  else
    spdlog::debug("transfer {}: ignoring Upload-Expires '{}'", record_.id, *value);
}

void UploadTask::fail_tus_version(const ResponseHeaders& head) {
  const auto* versions = head.find("tus-version");
  fail_attempt(Error(ErrorCategory::Protocol,
                     fmt::format("the server does not speak tus {} (412; it speaks {})",
                                 protocols::kTusVersion, versions ? *versions : "no version it names")),
               std::nullopt);
}

bool UploadTask::learn_limits(const ResponseHeaders& head) {
  const auto* value = head.find("upload-limit");
  if (tus() || !value || !dialect_.has_upload_limit) return true;
  auto parsed = protocols::parse_upload_limit(*value, dialect_);
  if (!parsed) {
    // The draft lets a client ignore an invalid Upload-Limit; we keep what we knew.
    spdlog::debug("transfer {}: ignoring Upload-Limit '{}': {}", record_.id, *value,
                  parsed.error().message());
    return true;
  }
  return adopt_limits(*parsed);
}

bool UploadTask::adopt_limits(const UploadLimits& limits) {
  limits_ = limits;
  if (limits_.max_age)
    upload_.expires_at = unix_now() + std::chrono::milliseconds(*limits_.max_age).count();
  origin_dirty_ = true;
  if (auto r = protocols::check_total_size(limits_, readable()); !r) {
    // The server will not take the whole file: stop now rather than after its last byte.
    finish(TransferState::Failed, r.error().message(), false, true, r.error());
    return false;
  }
  return true;
}

void UploadTask::learn_resource(const std::string& url, std::uint64_t sent_to,
                                std::function<void()> next) {
  // A 104 may have named it already: then this only waits until that is journaled.
  if (!announced_resource_ || upload_.resource_url != url) {
    announced_resource_ = true;
    upload_.resource_url = url;
    // Journaled with the URL: whatever of the creation's body went out is below it.
    upload_.sent_bound = sent_to;
    origin_dirty_ = true;
    spdlog::debug("transfer {}: upload resource {}", record_.id, url);
    emit(EventKind::StateChanged, "upload resource " + url);
    if (withholds_headers_from(url))
      emit(EventKind::StateChanged,
           fmt::format("the upload resource is on another origin ({}): the request headers and "
                       "credentials are not sent there (forward_headers_across_origins, --location-trusted in the CLI, sends them)",
                       origin_of(url)));
  }
  PersistJob job;
  job.sync_data = false;
  job.then = [weak = std::weak_ptr<UploadTask>(self()), next = std::move(next)](Result<void> r) {
    auto t = weak.lock();
    if (!t || t->phase_ != Phase::Running) return;
    if (!r) {
      t->fail_attempt(r.error(), std::nullopt);
      return;
    }
    crash_point("upload-url-journaled");
    if (next) next();
  };
  persist(std::move(job));
}

void UploadTask::restart_upload(const std::string& reason) {
  if (++restarts_ > kMaxRestarts) {
    fail_protocol(reason + ", again");
    return;
  }
  bump_generation();
  emit(EventKind::Restarted, reason + "; starting a new upload from zero");
  upload_.resource_url.clear();
  upload_.sent_bound.reset();
  acked_ = durable_acked_ = 0;
  rebase_progress();
  PersistJob job;
  job.sync_data = false;
  persist(std::move(job));
  create();
}

std::optional<std::uint64_t> UploadTask::offset_in(const ResponseHeaders& head,
                                                   std::uint64_t absent) {
  const auto* value = head.find("upload-offset");
  if (!value) return absent;
  const auto parsed = tus() ? protocols::parse_tus_integer(*value) : protocols::parse_upload_offset(*value);
  if (!parsed) fail_protocol(fmt::format("Upload-Offset '{}' is not an offset", *value));
  return parsed;
}

bool UploadTask::resource_answered(const ResponseHeaders& head, const std::string& what) {
  if (head.status == 404 || head.status == 410) {
    restart_upload(fmt::format("the server no longer has the upload ({})", head.status));
    return false;
  }
  if (!ok_status(head.status)) {
    fail_status(head, what);
    return false;
  }
  return true;
}

void UploadTask::fail_status(const ResponseHeaders& head, const std::string& what) {
  std::optional<std::chrono::milliseconds> retry_after;
  if (const auto* value = head.find("retry-after"))
    retry_after = protocols::parse_retry_after(*value, unix_now(), kLongestRetryAfterSeen);
  std::string message = fmt::format("server answered {} to {}", head.status, what);
  if ((head.status == 401 || head.status == 403) && !upload_.resource_url.empty() &&
      withholds_headers_from(upload_.resource_url))
    message += fmt::format(" (the upload resource is on {}, which was not sent the request "
                           "headers and credentials; --location-trusted sends them)",
                           origin_of(upload_.resource_url));
  fail_attempt(Error(ErrorCategory::HttpStatus, std::move(message),
                     is_retryable_status(head.status), head.status),
               retry_after);
}

void UploadTask::fail_protocol(const std::string& why) {
  release_exchanges();
  fail_attempt(Error(ErrorCategory::Protocol, why), std::nullopt);
}

bool UploadTask::worth_keeping_after(const Error& error) const {
  // The resource on the server is what a later resume() continues; a plain upload can always
  // be sent again (resume() is the user's say-so).
  if (upload_.protocol == UploadProtocol::Plain) return is_retryable(error);
  // Even after a protocol error: a later resume() asks the server again (HEAD) instead of
  // starting over. A changed source (InvalidArgument) is not worth it.
  return !upload_.resource_url.empty() && error.category() != ErrorCategory::InvalidArgument;
}

// ---- durability ------------------------------------------------------------------------------

UploadTask::PersistWork UploadTask::prepare_persist(const PersistJob& job) {
  store::UploadRecord snapshot = upload_;
  snapshot.acked_offset = acked_;
  std::optional<store::OriginRecord> origin;
  if (origin_dirty_ && !upload_.resource_url.empty()) {
    origin = origin_record_.value_or(store::OriginRecord{});
    origin->origin = origin_;
    origin->upload_interop_version = upload_.interop_version;
    origin->upload_limits = limits_;
    origin->updated_at = unix_now();
    origin_record_ = origin;
    origin_dirty_ = false;
  }
  const auto put_records = [snapshot, origin, keep = !job.discard_local](store::Batch& batch) {
    if (keep) batch.put_upload(snapshot);
    // Only the upload fields: the engine keeps the origin's Alt-Svc in the same record.
    if (origin) batch.put_origin(*origin, store::OriginFields::Uploads);
  };
  PersistWork work;
  work.before_commit = [put_records](store::Batch& batch) -> Result<void> {
    put_records(batch);
    return {};
  };
  work.applied = [this, acked = snapshot.acked_offset] { durable_acked_ = acked; };

  const files::DigestExpectations report = reported_digest();
  if (!report.report || !source_) return work;
  if (job.finalize && size_) {
    // What the server has is what was read from the source; hash_ahead hashed what was read
    // for sending while it was in the page cache, this hashes the rest. Best effort:
    // the server has every byte, so a source that cannot be read back any more (truncated
    // since) leaves the digest out rather than undoing the completion.
    work.completed_digest = source_digest_;
    work.before_commit = [put_records, source = source_, digest = source_digest_, report,
                          size = *size_, id = record_.id](store::Batch& batch) -> Result<void> {
      // A failed verify leaves reported() empty: the event then carries no digest.
      if (auto r = digest->verify(*source, size, report); !r) {
        spdlog::warn("transfer {}: no digest to report: {}", id, r.error().describe());
        digest->discard();
      }
      put_records(batch);
      return {};
    };
  }
  return work;
}

files::DigestExpectations UploadTask::reported_digest() const {
  files::DigestExpectations report;
  report.report = files::reported_algorithm(host_.config().report_digests, checksum_);
  return report;
}

void UploadTask::hash_ahead(std::uint64_t read_upto) {
  // Bytes read for sending are the source's, whatever the server acknowledges of them.
  hash_ahead_.offer(host_.pool(), source_, source_digest_, read_upto, reported_digest());
}

std::uint64_t UploadTask::bytes_done() const {
  if (exchange_ && exchange_->step != Step::Delete && exchange_->cursor > acked_)
    return exchange_->cursor;
  return acked_;
}

void UploadTask::fill_status(TransferStatus& status) const {
  status.awaiting_source_end = growing();
}

// ---- a growing source ------------------------------------------------------------------------

void UploadTask::source_grew(std::uint64_t size, bool ended, std::function<void(Result<void>)> done) {
  if (!growing()) {
    done(fail(ErrorCategory::InvalidArgument,
              fmt::format("transfer {}: its source {}", record_.id,
                          upload_.source_size == size && ended ? "has already ended"
                                                               : "is not growing (its length is known)")));
    return;
  }
  if (size < available_) {
    done(fail(ErrorCategory::InvalidArgument,
              fmt::format("transfer {}: a growing source only grows ({} bytes announced, then {})",
                          record_.id, available_, size)));
    return;
  }
  if (limits_.max_size && size > *limits_.max_size) {
    const std::string message =
        fmt::format("the source grew to {} bytes, beyond the server's max-size of {}", size,
                    *limits_.max_size);
    finish(TransferState::Failed, message, false, true, Error(ErrorCategory::InvalidArgument, message));
    done(fail(ErrorCategory::InvalidArgument, message));
    return;
  }
  if (ended) {
    if (auto r = end_growing_source(host_.file_system(), record_.local_path, size, upload_); !r) {
      done(std::move(r));
      return;
    }
  }
  available_ = size;
  upload_.source_size = size;
  if (ended) {
    size_ = size;
    record_.size = size;
    // Journaled before the caller hears back: after a crash, the upload can still finish.
    PersistJob job;
    job.sync_data = false;
    job.then = std::move(done);
    persist(std::move(job));
  } else {
    done({});
  }
  if (phase_ == Phase::Running && on_growth_) {
    auto next = std::move(on_growth_);
    on_growth_ = nullptr;
    next();
  }
}

void UploadTask::await_source(std::function<void()> next, bool linger) {
  on_growth_ = std::move(next);
  if (!linger || linger_armed_) return;
  linger_armed_ = true;
  linger_timer_.expires_after(kLinger);
  linger_timer_.async_wait([weak = std::weak_ptr<UploadTask>(self())](const boost::system::error_code& ec) {
    auto t = weak.lock();
    if (!t || ec) return;
    t->linger_armed_ = false;
    if (t->phase_ != Phase::Running || !t->on_growth_) return;
    t->linger_due_ = true;
    auto resume = std::move(t->on_growth_);
    t->on_growth_ = nullptr;
    resume();
  });
}

void UploadTask::stop_awaiting_source() {
  on_growth_ = nullptr;
  if (linger_armed_) {
    linger_timer_.cancel();
    linger_armed_ = false;
  }
}

// ---- cancel ----------------------------------------------------------------------------------

void UploadTask::cancel_remote(std::function<void()> then) {
  if (upload_.resource_url.empty() || upload_.protocol == UploadProtocol::Plain) {
    then();
    return;
  }
  after_delete_ = std::move(then);
  HttpRequest request = base_request("DELETE", upload_.resource_url);
  release_exchanges();
  exchange_ = std::make_unique<Exchange>();
  exchange_->step = Step::Delete;
  exchange_->url = request.url;
  exchange_->sink = std::make_shared<Sink>(self(), exchange_.get());
  auto stream = host_.transport().start(request, *exchange_->sink);
  if (!stream) {
    release_exchanges();
    if (auto next = std::move(after_delete_)) next();
    return;
  }
  if (!exchange_) return;
  exchange_->stream = std::move(*stream);
  delete_timer_.expires_after(kDeleteWait);
  delete_timer_.async_wait([weak = std::weak_ptr<UploadTask>(self())](const boost::system::error_code& ec) {
    auto t = weak.lock();
    if (!t || ec) return;
    spdlog::debug("transfer {}: DELETE unanswered after {} s", t->record_.id, kDeleteWait.count());
    t->release_exchanges();
    if (auto next = std::move(t->after_delete_)) next();
  });
}

}  // namespace xfer::engine
