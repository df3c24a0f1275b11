#include "testserver/app/upload_handler.h"

#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "testserver/app/file_digest.h"
#include "testserver/app/http_util.h"
#include "testserver/app/path_guard.h"
#include "testserver/app/problem.h"
#include "testserver/app/structured_fields.h"
#include "testserver/app/upload_dialect.h"

namespace xts {

namespace {

// Bytes between durable checkpoints while a body streams in: each one is fdatasync'ed,
// recorded and (from interop 5) reported in a 104 progress response. The body keeps streaming
// into the page cache while a checkpoint syncs (one checkpoint in flight at a time); every
// other blocking step on the upload waits for it, so records are written in order.
constexpr std::uint64_t kCheckpointBytes = 8ull << 20;

std::int64_t now_s() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Host / :authority as the client sent it, if it can stand in a URL unchanged (RFC 3986
// reg-name or IP literal, optional port); anything else gets a relative Location.
bool usable_authority(std::string_view a) {
  static constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:[]%";
  if (a.empty() || a.size() > 255) return false;
  for (const char ch : a) {
    const auto c = static_cast<unsigned char>(ch);
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!alnum && kAllowed.find(ch) == std::string_view::npos) return false;
  }
  return true;
}

std::string upload_location(const Request& req, const std::string& id) {
  if (!usable_authority(req.authority)) return "/uploads/" + id;
  return fmt::format("{}://{}/uploads/{}", req.scheme == "https" ? "https" : "http", req.authority, id);
}

// The URL of a file below --root: dest holds decoded bytes, so each is encoded again
// ("%2e" in a name comes back as "%252e", not as ".").
std::string file_url(const std::string& dest) { return "/files/" + url_encode_path(dest); }

std::string completion_body(const std::string& url, std::uint64_t size) {
  return fmt::format("{{\"location\":\"{}\",\"size\":{}}}\n", json_escape(url), size);
}

// A failed storage step: 507 when the disk (or quota) is full, else 500.
void send_store_error(const std::shared_ptr<Exchange>& ex, const StoreError& e, Headers h = {}) {
  if (e.no_space()) {
    send_problem(ex, 507, "insufficient-storage", "Not enough space to store the upload: " + e.what, std::move(h));
  } else {
    send_problem(ex, 500, "io-error", e.what, std::move(h));
  }
}

// Optional sf-integer header: absent → nullopt; present but invalid or negative → error.
std::expected<std::optional<std::uint64_t>, std::string> header_u64(const Request& req,
                                                                    std::string_view name) {
  const auto* h = req.header(name);
  if (h == nullptr) return std::optional<std::uint64_t>{};
  const auto n = parse_sf_integer(*h);
  if (!n || *n < 0) return std::unexpected(fmt::format("invalid {} '{}'", name, *h));
  return std::optional<std::uint64_t>(static_cast<std::uint64_t>(*n));
}

std::expected<UploadLimits, std::string> apply_limit_dict(UploadLimits limits, std::string_view text) {
  const auto dict = parse_sf_int_dictionary(text);
  if (!dict) return std::unexpected("invalid limit dictionary");
  for (const auto& [k, v] : *dict) {
    if (v < 0) return std::unexpected("negative limit " + k);
    const auto u = static_cast<std::uint64_t>(v);
    if (k == "max-size") limits.max_size = u;
    else if (k == "min-size") limits.min_size = u;
    else if (k == "max-append-size") limits.max_append_size = u;
    else if (k == "min-append-size") limits.min_append_size = u;
    else if (k == "max-age" || k == "expires") limits.max_age = u;
    else return std::unexpected("unknown limit " + k);
  }
  return limits;
}

}  // namespace

// One request body streaming into an upload (creation or append).
struct BodyJob : std::enable_shared_from_this<BodyJob> {
  std::shared_ptr<UploadHandler> handler;
  std::shared_ptr<Exchange> ex;
  std::shared_ptr<Upload> u;
  UploadDialect dialect;
  bool creation = false;
  bool resumable = true;    // false: a plain upload (no Location, no 104)
  bool complete_req = false;
  std::string location;     // creation only
  std::uint64_t start = 0;
  std::uint64_t written = 0;
  std::uint64_t synced = 0;
  std::optional<std::uint64_t> length;
  UploadLimits limits;
  bool progress = false;  // send 104 with Upload-Offset at checkpoints
  bool syncing = false;   // a checkpoint is running on the pool
  std::optional<StoreError> sync_error;
  std::function<void()> after_sync;  // the final step, held back until the checkpoint is done

  UploadStore& store() { return handler->store_; }
  BlockingPool& pool() { return handler->pool_; }

  void read() {
    ex->read_body([self = shared_from_this()](std::span<const std::uint8_t> data, bool eof,
                                              boost::system::error_code ec) {
      self->on_body(data, eof, ec);
    });
  }

  // Runs fn now, or once the checkpoint in flight has finished: two blocking steps on one
  // upload must not overlap (a late checkpoint record would undo a truncate or completion).
  void then(std::function<void()> fn) {
    if (syncing) {
      after_sync = std::move(fn);
    } else {
      fn();
    }
  }

  void on_body(std::span<const std::uint8_t> data, bool eof, boost::system::error_code ec) {
    auto self = shared_from_this();
    if (u->gone) {  // cancelled while we were receiving
      then([self] { self->handler->release(self->u); });
      return;
    }
    if (ec) {
      then([self] { self->interrupted(); });
      return;
    }
    if (sync_error) {
      then([self] { self->reject_store(*self->sync_error); });
      return;
    }
    if (eof) {
      then([self] { self->done(); });
      return;
    }
    const std::uint64_t n = data.size();
    if (written + n > limits.max_size ||
        (limits.max_append_size && written - start + n > *limits.max_append_size)) {
      then([self] { self->reject(413, "upload-limit", "The content exceeds the upload's limits."); });
      return;
    }
    if (length && written + n > *length) {
      then([self] { self->reject(400, "inconsistent-upload-length", "More content than the declared Upload-Length."); });
      return;
    }
    if (auto r = store().write(*u, written, data.data(), data.size()); !r) {
      then([self, e = r.error()] { self->reject_store(e); });
      return;
    }
    written += n;
    if (!syncing && written - synced >= kCheckpointBytes) checkpoint();
    read();
  }

  void checkpoint() {
    auto self = shared_from_this();
    // Checkpoints sit at multiples of kCheckpointBytes (whatever the chunking), so the durable
    // offset after a crash is predictable; the bytes past it are synced too, just not recorded.
    const auto target = written - written % kCheckpointBytes;
    syncing = true;
    pool().run(ex->executor(), [self, target] { return self->store().sync_offset(*self->u, target); },
               [self, target](StoreResult r) {
                 self->syncing = false;
                 const bool ok = r.has_value();
                 if (ok) {
                   self->synced = target;
                 } else {
                   self->sync_error = r.error();
                 }
                 if (self->after_sync) {
                   auto next = std::move(self->after_sync);
                   self->after_sync = nullptr;
                   next();
                   return;
                 }
                 if (ok && self->progress && !self->ex->closed()) {
                   Headers h{{"upload-offset", std::to_string(target)}};
                   if (self->dialect.announced)
                     h.push_back({"upload-draft-interop-version", std::to_string(self->dialect.version)});
                   self->ex->send_interim(104, h);
                 }
               });
  }

  // The peer went away (or a fault cut it): keep what arrived, durably, then record it.
  void interrupted() {
    {
      std::lock_guard lock(store().mutex());
      u->state = Upload::State::kPersisting;
    }
    auto self = shared_from_this();
    const auto target = written;
    pool().run(ex->executor(), [self, target] { return self->store().sync_offset(*self->u, target); },
               [self](StoreResult) { self->handler->release(self->u); });
  }

  void reject_store(const StoreError& e) {
    if (e.no_space()) {
      reject(507, "insufficient-storage", "Not enough space to store the upload: " + e.what);
    } else {
      reject(500, "io-error", e.what);
    }
  }

  // Drops this request's bytes again and answers with an error.
  void reject(int status, std::string_view code, std::string_view title) {
    {
      std::lock_guard lock(store().mutex());
      u->state = Upload::State::kPersisting;
    }
    auto self = shared_from_this();
    const std::string code_s(code), title_s(title);
    pool().run(ex->executor(), [self] { return self->store().truncate_to(*self->u, self->start); },
               [self, status, code_s, title_s](StoreResult) {
                 Headers h;
                 if (self->resumable) {
                   h.push_back({"upload-offset", std::to_string(self->start)});
                   h.push_back(self->dialect.complete_header(false));
                   if (self->dialect.has_limits())
                     h.push_back({"upload-limit", self->dialect.limit_value(self->limits, self->u->rec.expires, now_s())});
                 }
                 std::string_view type = code_s;
                 if (code_s == "inconsistent-upload-length" && self->dialect.has_inconsistent_length_type())
                   type = kProblemInconsistentLength;
                 send_problem(self->ex, status, type, title_s, std::move(h));
                 self->handler->release(self->u);
               });
  }

  void done() {
    auto self = shared_from_this();
    if (complete_req) {
      if (length && *length != written) {
        // Keep the bytes (they are valid content), but the upload is not complete.
        pool().run(ex->executor(), [self] { return self->store().sync_offset(*self->u, self->written); },
                   [self](StoreResult) {
                     Headers h{{"upload-offset", std::to_string(self->written)}, self->dialect.complete_header(false)};
                     send_problem(self->ex, 400,
                                  self->dialect.has_inconsistent_length_type() ? kProblemInconsistentLength
                                                                               : std::string_view("inconsistent-upload-length"),
                                  "The content ended before the declared Upload-Length.", std::move(h));
                     self->handler->release(self->u);
                   });
        return;
      }
      {
        std::lock_guard lock(store().mutex());
        u->state = Upload::State::kPersisting;
      }
      if (const auto* field = ex->request().header("repr-digest")) {
        verify_digest(*field);
        return;
      }
      finish_upload();
      return;
    }
    pool().run(ex->executor(), [self] { return self->store().sync_offset(*self->u, self->written); },
               [self](StoreResult r) {
                 if (!r) {
                   send_store_error(self->ex, r.error());
                 } else {
                   self->respond_incomplete();
                 }
                 self->handler->release(self->u);
               });
  }

  // RFC 9530: the completing request's Repr-Digest must match the bytes stored. A mismatch
  // keeps the bytes (the upload stays incomplete at its offset) and answers 400, so nothing
  // wrong is ever published under /files/. Digests of unknown algorithms are ignored.
  void verify_digest(const std::string& field) {
    auto self = shared_from_this();
    const auto members = parse_sf_bytes_dictionary(field);
    std::string algorithm, expected;
    if (members) {
      for (const char* alg : {"sha-512", "sha-256"}) {
        if (const auto it = members->find(alg); it != members->end()) {
          algorithm = alg;
          expected = it->second;
          break;
        }
      }
    }
    if (!members || algorithm.empty()) {
      if (!members) {
        sync_then_problem(400, "invalid-digest", "Repr-Digest is not a dictionary of byte sequences.");
        return;
      }
      finish_upload();
      return;
    }
    pool().run(
        ex->executor(),
        [self, algorithm] { return file_digest_base64(self->u->fd, algorithm).value_or(""); },
        [self, algorithm, expected](std::string actual) {
          if (actual != expected) {
            self->sync_then_problem(
                400, "digest-mismatch",
                fmt::format("Repr-Digest {} does not match the {} bytes received", algorithm, self->written));
            return;
          }
          self->finish_upload();
        });
  }

  void sync_then_problem(int status, std::string code, std::string title) {
    auto self = shared_from_this();
    pool().run(ex->executor(), [self] { return self->store().sync_offset(*self->u, self->written); },
               [self, status, code, title](StoreResult) {
                 Headers h{{"upload-offset", std::to_string(self->written)}, self->dialect.complete_header(false)};
                 send_problem(self->ex, status, code, title, std::move(h));
                 self->handler->release(self->u);
               });
  }

  void finish_upload() {
    auto self = shared_from_this();
    {
      pool().run(
          ex->executor(), [self] { return self->store().finish(*self->u, self->written); },
          [self](StoreResult r) {
            if (!r) {
              Headers h;
              if (self->resumable) {
                // finish() recorded the upload incomplete again: say where it stands.
                h.push_back({"upload-offset", std::to_string(self->written)});
                h.push_back(self->dialect.complete_header(false));
              }
              send_store_error(self->ex, r.error(), std::move(h));
            } else {
              self->respond_complete();
            }
            self->handler->release(self->u);
          });
    }
  }

  void respond_complete() {
    const std::string content_location = file_url(u->rec.dest);
    Headers h{{"content-location", content_location}};
    if (resumable) {
      h.push_back({"upload-offset", std::to_string(written)});
      h.push_back(dialect.complete_header(true));
      if (creation) h.push_back({"location", location});
    }
    respond(ex, 201, std::move(h), completion_body(content_location, written), "application/json");
  }

  void respond_incomplete() {
    Headers h{{"upload-offset", std::to_string(written)}, dialect.complete_header(false)};
    if (dialect.has_limits())
      h.push_back({"upload-limit", dialect.limit_value(limits, u->rec.expires, now_s())});
    if (length && dialect.has_length()) h.push_back({"upload-length", std::to_string(*length)});
    if (creation) {
      h.push_back({"location", location});
      respond(ex, 201, std::move(h));
    } else {
      respond(ex, dialect.incomplete_append_status(), std::move(h));
    }
  }
};

}  // namespace xts

namespace xts {

UploadLimits UploadHandler::default_limits() const {
  std::lock_guard lock(limits_mutex_);
  return defaults_;
}

void UploadHandler::set_default_limits(const UploadLimits& limits) {
  std::lock_guard lock(limits_mutex_);
  defaults_ = limits;
}

void UploadHandler::expire_now(boost::asio::any_io_executor ex, std::function<void(std::size_t)> done) {
  auto self = shared_from_this();
  pool_.run(ex, [self] { return self->store_.expire(now_s()); }, [done](std::size_t n) {
    if (done) done(n);
  });
}

void UploadHandler::release(const std::shared_ptr<Upload>& u) {
  std::vector<std::function<void()>> waiters;
  bool gone;
  {
    std::lock_guard lock(store_.mutex());
    u->state = Upload::State::kIdle;
    u->active.reset();
    waiters.swap(u->waiters);
    gone = u->gone;
  }
  if (gone) store_.remove(*u);  // cancelled mid-transfer: the job owned the files until now
  for (auto& w : waiters) w();
}

void UploadHandler::when_settled(const std::shared_ptr<Exchange>& ex, const std::shared_ptr<Upload>& u,
                                 std::function<void()> fn, bool supersede) {
  std::shared_ptr<Exchange> previous;
  {
    std::lock_guard lock(store_.mutex());
    const bool receiving = u->state == Upload::State::kReceiving;
    if (u->state == Upload::State::kPersisting || (supersede && receiving)) {
      auto exec = ex->executor();
      u->waiters.push_back([exec, fn = std::move(fn)]() mutable { boost::asio::post(exec, std::move(fn)); });
      if (receiving) previous = u->active.lock();
      fn = nullptr;
    }
  }
  // The draft recommends ending a previous request on the resource (its client may be gone
  // without the server knowing: a killed client over QUIC is silent until the idle timeout):
  // what it delivered is kept, and this request runs once it has let go.
  if (previous && !previous->closed()) {
    spdlog::info("upload: a new request on a resource another request is writing: ending that one");
    previous->abort_reset();
  }
  if (fn) fn();
}

void UploadHandler::options(const std::shared_ptr<Exchange>& ex) {
  auto d = UploadDialect::of(ex->request(), kLatestInterop);
  UploadDialect dialect = d ? *d : UploadDialect{};
  const auto limits = default_limits();
  const auto now = now_s();
  Headers h{{"upload-limit", dialect.limit_value(limits, now + static_cast<std::int64_t>(limits.max_age), now)},
            {"allow", "OPTIONS, GET, HEAD, POST, PUT, PATCH, DELETE"},
            {"accept-patch", "application/partial-upload"}};
  respond(ex, 204, std::move(h));
}

void UploadHandler::create(const std::shared_ptr<Exchange>& ex, std::string dest, const FaultPlan& plan) {
  (void)plan;
  const auto& req = ex->request();
  auto d = UploadDialect::of(req, kLatestInterop);
  if (!d) {
    send_problem(ex, 400, "unsupported-interop-version", d.error());
    return;
  }
  const UploadDialect dialect = *d;
  const auto flag = dialect.request_complete(req);
  // Resumable when the client speaks a version we know (v3 needs nothing more; v4+ need
  // Upload-Complete), or sends Upload-Complete without a version (then it gets the latest).
  const bool resumable = dialect.announced ? (dialect.uses_incomplete_field() || flag.has_value()) : flag.has_value();
  const bool complete = flag.value_or(true);

  if (!dest.empty()) {
    // Checked before anything touches the disk: an overlong or deep path costs nothing.
    const auto cleaned = PathGuard::clean(dest);
    if (!cleaned && cleaned.error() == PathError::kTooLong) {
      send_problem(ex, 414, "path-too-long",
                   fmt::format("The path exceeds {} segments, {} bytes per segment or {} bytes.",
                               kMaxPathSegments, kMaxSegmentBytes, kMaxPathBytes));
      return;
    }
    if (!cleaned) {
      send_problem(ex, 400, "bad-path", "The target path is not allowed.");
      return;
    }
    dest = *cleaned;
  }
  auto upload_length = header_u64(req, "upload-length");
  if (!upload_length) {
    send_problem(ex, 400, "bad-upload-length", upload_length.error());
    return;
  }
  if (req.header("upload-offset") != nullptr) {
    const auto off = parse_sf_integer(*req.header("upload-offset"));
    if (!off || *off != 0) {
      send_problem(ex, 400, "bad-upload-offset", "Upload creation starts at offset 0.");
      return;
    }
  }
  auto limits = default_limits();
  if (const auto* xl = req.header("xfer-upload-limit")) {
    auto l = apply_limit_dict(limits, *xl);
    if (!l) {
      send_problem(ex, 400, "bad-xfer-upload-limit", l.error());
      return;
    }
    limits = *l;
  }
  const auto cl = req.content_length;
  std::optional<std::uint64_t> length = *upload_length;
  Headers limit_h;
  const auto now = now_s();
  const auto expires = now + static_cast<std::int64_t>(std::min<std::uint64_t>(limits.max_age, 1ull << 40));
  if (dialect.has_limits() || !resumable) limit_h.push_back({"upload-limit", dialect.limit_value(limits, expires, now)});
  if (complete && cl) {
    if (length && *length != *cl) {
      send_problem(ex, 400, dialect.has_inconsistent_length_type() ? kProblemInconsistentLength : std::string_view("inconsistent-upload-length"),
                   "Upload-Length and Content-Length disagree.", {dialect.complete_header(false)});
      return;
    }
    length = cl;
  }
  if ((length && *length > limits.max_size) || (cl && *cl > limits.max_size) ||
      (limits.max_append_size && cl && *cl > *limits.max_append_size)) {
    send_problem(ex, 413, "upload-limit", "The upload exceeds the server's limits.", limit_h);
    return;
  }
  if (resumable && !complete && limits.min_append_size && cl && *cl > 0 && *cl < *limits.min_append_size) {
    send_problem(ex, 400, "upload-limit", "The content is smaller than min-append-size.", limit_h);
    return;
  }
  if (resumable && !complete && dialect.version < 9 && length && *length < limits.min_size) {
    send_problem(ex, 400, "upload-limit", "The upload is smaller than min-size.", limit_h);
    return;
  }

  UploadRecord rec;
  rec.id = store_.new_id();
  rec.version = dialect.version;
  rec.dest = dest.empty() ? "uploads/" + rec.id : std::move(dest);
  rec.length = length;
  rec.limits = limits;
  rec.created = now;
  rec.expires = expires;
  auto self = shared_from_this();
  pool_.run(
      ex->executor(), [self, rec]() { return self->store_.create(rec); },
      [self, ex, dialect, resumable, complete, length, limits](
          std::expected<std::shared_ptr<Upload>, StoreError> created) {
        if (!created) {
          send_store_error(ex, created.error());
          return;
        }
        auto u = *created;
        auto job = std::make_shared<BodyJob>();
        job->handler = self;
        job->ex = ex;
        job->u = u;
        job->dialect = dialect;
        job->creation = true;
        job->resumable = resumable;
        job->complete_req = complete;
        job->location = upload_location(ex->request(), u->rec.id);
        job->length = length;
        job->limits = limits;
        job->progress = resumable && dialect.version >= 5;
        {
          std::lock_guard lock(self->store_.mutex());
          u->state = Upload::State::kReceiving;
          u->active = ex;
        }
        if (resumable && !ex->closed()) {
          Headers h{{"location", job->location}};
          if (dialect.announced) h.push_back({"upload-draft-interop-version", std::to_string(dialect.version)});
          if (dialect.has_limits()) h.push_back({"upload-limit", dialect.limit_value(limits, u->rec.expires, now_s())});
          ex->send_interim(104, h);
        }
        job->read();
      });
}

void UploadHandler::resource(const std::shared_ptr<Exchange>& ex, const std::string& id, const FaultPlan& plan) {
  const auto& req = ex->request();
  if (req.method == "OPTIONS") {
    options(ex);
    return;
  }
  auto u = store_.find(id);
  if (!u) {
    send_problem(ex, 404, "no-such-upload", "No such upload (never created, cancelled or expired).");
    return;
  }
  if (req.method == "HEAD" || req.method == "GET") {
    when_settled(ex, u, [self = shared_from_this(), ex, u, plan] { self->retrieve(ex, u, plan); }, true);
  } else if (req.method == "PATCH") {
    when_settled(ex, u, [self = shared_from_this(), ex, u] { self->append(ex, u); }, true);
  } else if (req.method == "DELETE") {
    when_settled(ex, u, [self = shared_from_this(), ex, u] { self->cancel(ex, u); });
  } else {
    respond(ex, 405, {{"allow", "OPTIONS, HEAD, GET, PATCH, DELETE"}}, "method not allowed\n");
  }
}

void UploadHandler::retrieve(const std::shared_ptr<Exchange>& ex, const std::shared_ptr<Upload>& u,
                             const FaultPlan& plan) {
  const auto& req = ex->request();
  UploadRecord rec;
  {
    std::lock_guard lock(store_.mutex());
    if (u->gone) {
      send_problem(ex, 404, "no-such-upload", "No such upload.");
      return;
    }
    rec = u->rec;
  }
  auto d = UploadDialect::of(req, rec.version);
  if (!d) {
    send_problem(ex, 400, "unsupported-interop-version", d.error());
    return;
  }
  const auto dialect = *d;
  if (req.method == "GET" && !dialect.get_retrieves_offset()) {
    respond(ex, 405, {{"allow", "OPTIONS, HEAD, PATCH, DELETE"}}, "offset retrieval uses HEAD before interop 9\n");
    return;
  }
  if (dialect.rejects_state_fields_on_head() &&
      (req.header("upload-offset") || req.header("upload-complete") || req.header("upload-incomplete") ||
       (dialect.version == 6 && req.header("upload-length")))) {
    send_problem(ex, 400, "unexpected-upload-fields", "Offset retrieval must not carry upload state fields.");
    return;
  }
  if (plan.lag_offset && !rec.complete && rec.offset > 0) {
    bool idle;
    {
      std::lock_guard lock(store_.mutex());
      idle = u->state == Upload::State::kIdle;
      if (idle) u->state = Upload::State::kPersisting;
    }
    if (idle) {
      const auto lagged = rec.offset - std::min(*plan.lag_offset, rec.offset);
      faults_.record("lag-offset", req, fmt::format("\"stored\":{},\"reported\":{}", rec.offset, lagged));
      auto self = shared_from_this();
      FaultPlan rest = plan;
      rest.lag_offset.reset();
      pool_.run(ex->executor(), [self, u, lagged] { return self->store_.truncate_to(*u, lagged); },
                [self, ex, u, rest](StoreResult) {
                  self->release(u);
                  self->retrieve(ex, u, rest);
                });
      return;
    }
  }
  Headers h{{"upload-offset", std::to_string(rec.offset)}, {"cache-control", "no-store"}};
  if (dialect.retrieval_has_state_fields() || rec.complete) h.push_back(dialect.complete_header(rec.complete));
  if (dialect.has_limits()) h.push_back({"upload-limit", dialect.limit_value(rec.limits, rec.expires, now_s())});
  if (dialect.retrieval_has_state_fields() && dialect.has_length() && rec.length)
    h.push_back({"upload-length", std::to_string(*rec.length)});
  if (rec.complete) h.push_back({"content-location", file_url(rec.dest)});
  respond(ex, 204, std::move(h));
}

void UploadHandler::append(const std::shared_ptr<Exchange>& ex, const std::shared_ptr<Upload>& u) {
  const auto& req = ex->request();
  UploadRecord rec;
  Upload::State state;
  {
    std::lock_guard lock(store_.mutex());
    if (u->gone) {
      send_problem(ex, 404, "no-such-upload", "No such upload.");
      return;
    }
    rec = u->rec;
    state = u->state;
  }
  auto d = UploadDialect::of(req, rec.version);
  if (!d) {
    send_problem(ex, 400, "unsupported-interop-version", d.error());
    return;
  }
  const auto dialect = *d;
  const auto now = now_s();
  Headers state_h{{"upload-offset", std::to_string(rec.offset)}, dialect.complete_header(rec.complete)};

  if (dialect.requires_media_type()) {
    const auto* ct = req.header("content-type");
    std::string media = ct ? to_lower(trim(std::string_view(*ct).substr(0, ct->find(';')))) : "";
    if (media != "application/partial-upload") {
      Headers h = state_h;
      h.push_back({"accept-patch", "application/partial-upload"});
      send_problem(ex, 415, "unsupported-media-type", "Appends use Content-Type: application/partial-upload.", h);
      return;
    }
  }
  const auto* off_h = req.header("upload-offset");
  if (off_h == nullptr) {
    send_problem(ex, 400, "missing-upload-offset", "Upload-Offset is required.", state_h);
    return;
  }
  const auto off = parse_sf_integer(*off_h);
  if (!off || *off < 0) {
    send_problem(ex, 400, "bad-upload-offset", "Upload-Offset must be a non-negative integer.", state_h);
    return;
  }
  const auto flag = dialect.request_complete(req);
  if (!flag && !dialect.uses_incomplete_field()) {
    send_problem(ex, 400, "missing-upload-complete", "Upload-Complete is required.", state_h);
    return;
  }
  const bool complete = flag.value_or(true);
  auto upload_length = header_u64(req, "upload-length");
  if (!upload_length) {
    send_problem(ex, 400, "bad-upload-length", upload_length.error(), state_h);
    return;
  }
  const auto cl = req.content_length;
  const auto provided = static_cast<std::uint64_t>(*off);

  if (rec.complete) {
    if (dialect.version >= 9 && provided == rec.offset && complete && cl && *cl == 0) {
      // A valid append to a completed upload whose final response was lost: replay it.
      Headers h{{"content-location", file_url(rec.dest)}, {"upload-offset", std::to_string(rec.offset)},
                dialect.complete_header(true)};
      respond(ex, 201, std::move(h), completion_body(file_url(rec.dest), rec.offset), "application/json");
      return;
    }
    Headers h{{"upload-offset", std::to_string(rec.offset)}};
    h.push_back(dialect.version >= 9 ? dialect.complete_header(false) : dialect.complete_header(true));
    send_problem(ex, 400, dialect.has_completed_upload_type() ? kProblemCompletedUpload : std::string_view("completed-upload"),
                 "The upload is already complete.", std::move(h));
    return;
  }
  if (state == Upload::State::kReceiving) {
    Headers h = state_h;
    send_problem(ex, 409, "upload-busy", "Another request is appending to this upload.", std::move(h),
                 fmt::format("\"expected-offset\":{},\"provided-offset\":{}", rec.offset, provided));
    return;
  }
  if (provided != rec.offset) {
    Headers h{{"upload-offset", std::to_string(rec.offset)}, dialect.complete_header(false)};
    send_problem(ex, 409, dialect.has_problem_types() ? kProblemMismatchingOffset : std::string_view("mismatching-upload-offset"),
                 "Upload-Offset does not match the upload's offset.", std::move(h),
                 fmt::format("\"expected-offset\":{},\"provided-offset\":{}", rec.offset, provided));
    return;
  }
  std::optional<std::uint64_t> length = rec.length;
  const auto inconsistent = [&](std::string_view why) {
    send_problem(ex, 400, dialect.has_inconsistent_length_type() ? kProblemInconsistentLength : std::string_view("inconsistent-upload-length"),
                 why, {{"upload-offset", std::to_string(rec.offset)}, dialect.complete_header(false)});
  };
  if (*upload_length) {
    if (length && *length != **upload_length) return inconsistent("Upload-Length differs from the recorded length.");
    if (**upload_length < rec.offset) return inconsistent("Upload-Length is below the current offset.");
    length = *upload_length;
  }
  if (complete && cl) {
    if (length && *length != rec.offset + *cl) return inconsistent("Offset plus Content-Length differs from the upload length.");
    length = rec.offset + *cl;
  }
  Headers limit_h = state_h;
  limit_h.push_back({"upload-limit", dialect.limit_value(rec.limits, rec.expires, now)});
  if ((cl && rec.offset + *cl > rec.limits.max_size) || (length && *length > rec.limits.max_size) ||
      (rec.limits.max_append_size && cl && *cl > *rec.limits.max_append_size)) {
    send_problem(ex, 413, "upload-limit", "The append exceeds the upload's limits.", limit_h);
    return;
  }
  if (!complete && rec.limits.min_append_size && cl && *cl < *rec.limits.min_append_size) {
    send_problem(ex, 400, "upload-limit", "The append is smaller than min-append-size.", limit_h);
    return;
  }
  if (length != rec.length) {
    std::lock_guard lock(store_.mutex());
    u->rec.length = length;  // recorded with the next sync
  }
  auto job = std::make_shared<BodyJob>();
  job->handler = shared_from_this();
  job->ex = ex;
  job->u = u;
  job->dialect = dialect;
  job->creation = false;
  job->resumable = true;
  job->complete_req = complete;
  job->start = job->written = job->synced = rec.offset;
  job->length = length;
  job->limits = rec.limits;
  job->progress = dialect.announced && dialect.version >= 5;
  {
    std::lock_guard lock(store_.mutex());
    u->state = Upload::State::kReceiving;
    u->active = ex;
  }
  job->read();
}

void UploadHandler::cancel(const std::shared_ptr<Exchange>& ex, const std::shared_ptr<Upload>& u) {
  const auto& req = ex->request();
  UploadRecord rec;
  {
    std::lock_guard lock(store_.mutex());
    rec = u->rec;
  }
  auto d = UploadDialect::of(req, rec.version);
  if (d && d->rejects_state_fields_on_head() &&
      (req.header("upload-offset") || req.header("upload-complete") || req.header("upload-incomplete"))) {
    send_problem(ex, 400, "unexpected-upload-fields", "Cancellation must not carry upload state fields.");
    return;
  }
  std::shared_ptr<Exchange> active;
  bool receiving;
  {
    std::lock_guard lock(store_.mutex());
    if (u->gone) {
      send_problem(ex, 404, "no-such-upload", "No such upload.");
      return;
    }
    u->gone = true;
    receiving = u->state == Upload::State::kReceiving;
    active = u->active.lock();
  }
  if (receiving) {
    // The receiving job removes the files when it sees the abort (it owns them until then).
    if (active && !active->closed()) active->abort_reset();
  } else {
    release(u);  // removes the files (a quick unlink and one leveldb write, on this thread)
  }
  respond(ex, 204, {});
}

}  // namespace xts
