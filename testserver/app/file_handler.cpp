#include "testserver/app/file_handler.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "testserver/app/file_digest.h"
#include "testserver/app/http_util.h"
#include "testserver/app/problem.h"

namespace xts {

namespace {

constexpr std::size_t kChunk = 256 * 1024;

struct RangeResult {
  enum Kind { kIgnore, kSingle, kUnsatisfiable } kind = kIgnore;
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};

RangeResult parse_range(std::string_view value, std::uint64_t len) {
  value = trim(value);
  const auto eq = value.find('=');
  if (eq == std::string_view::npos || to_lower(trim(value.substr(0, eq))) != "bytes") return {};
  const auto set = value.substr(eq + 1);
  if (set.find(',') != std::string_view::npos) return {};  // several ranges: full 200 (RFC 9110)
  const auto spec = trim(set);
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return {};
  const auto a = spec.substr(0, dash);
  const auto b = spec.substr(dash + 1);
  RangeResult r;
  if (a.empty()) {
    const auto n = parse_u64(b);
    if (!n) return {};
    if (*n == 0 || len == 0) return {RangeResult::kUnsatisfiable};
    r.kind = RangeResult::kSingle;
    r.first = *n >= len ? 0 : len - *n;
    r.last = len - 1;
    return r;
  }
  const auto first = parse_u64(a);
  if (!first) return {};
  std::uint64_t last = len == 0 ? 0 : len - 1;
  if (!b.empty()) {
    const auto l = parse_u64(b);
    if (!l || *l < *first) return {};
    if (*l < last) last = *l;
  }
  if (*first >= len) return {RangeResult::kUnsatisfiable};
  r.kind = RangeResult::kSingle;
  r.first = *first;
  r.last = last;
  return r;
}

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// One response body in flight: wait for room, pread that much, hand it to the transport,
// repeat when taken.
struct Sender : std::enable_shared_from_this<Sender> {
  std::shared_ptr<Exchange> ex;
  std::shared_ptr<Fd> fd;
  std::uint64_t pos = 0;
  std::uint64_t end = 0;  // exclusive
  std::optional<std::uint64_t> corrupt;
  FaultEngine* faults = nullptr;

  void next() {
    if (ex->closed()) return;
    if (pos >= end) {
      ex->finish();
      return;
    }
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, end - pos));
    // Read only what the transport can send now (a peer that keeps its window shut gets
    // nothing read for it): memory follows the peers' flow control, not the file size.
    ex->await_room(want, [self = shared_from_this()](std::size_t room, boost::system::error_code ec) {
      if (!ec && room > 0) self->send(room);
    });
  }

  void send(std::size_t want) {
    if (ex->closed()) return;
    Bytes buf(want);  // not zero-filled: pread overwrites it
    ssize_t n;
    do {
      n = ::pread(fd->fd, buf.data(), want, static_cast<off_t>(pos));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      // The file shrank under us: the promised length cannot be kept, so end abortively.
      ex->abort_reset();
      return;
    }
    buf.resize(static_cast<std::size_t>(n));
    if (corrupt && *corrupt >= pos && *corrupt < pos + buf.size()) {
      buf[*corrupt - pos] ^= 0xFF;
      faults->record("corrupt", ex->request(), fmt::format("\"offset\":{}", *corrupt));
    }
    pos += buf.size();
    ex->write_body(std::move(buf), [self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->next();
    });
  }
};

}  // namespace

struct FileHandler::Version {
  std::string abs;
  std::uint64_t size = 0;
  std::string etag;
  std::time_t last_modified = 0;
};

void FileHandler::handle(const std::shared_ptr<Exchange>& ex, std::string_view rel,
                         const FaultPlan& plan) {
  const auto& req = ex->request();
  if (req.method != "GET" && req.method != "HEAD") {
    respond(ex, 405, {{"allow", "GET, HEAD, PUT, POST, OPTIONS"}}, "method not allowed\n");
    return;
  }
  PathError err{};
  const auto abs = root_.resolve_existing(rel, &err);
  if (!abs) {
    if (err == PathError::kTooLong) {
      send_problem(ex, 414, "path-too-long", "The path is too deep or too long.");
    } else if (err == PathError::kBad) {
      send_problem(ex, 400, "bad-path", "The path is not allowed.");
    } else {
      send_problem(ex, 404, "not-found", "No such file.");
    }
    return;
  }
  const int fd = ::open(abs->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    send_problem(ex, 404, "not-found", "No such file.");
    return;
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    send_problem(ex, 404, "not-found", "Not a regular file.");
    return;
  }
  Version v;
  v.abs = *abs;
  v.size = static_cast<std::uint64_t>(st.st_size);
  const std::uint64_t mtime_ns =
      static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + st.st_mtim.tv_nsec;
  v.etag = fmt::format("\"{:x}-{:x}-{:x}", static_cast<std::uint64_t>(st.st_ino), v.size, mtime_ns);
  v.last_modified = st.st_mtim.tv_sec;
  if (plan.etag_change) {
    const auto gen = faults_.next_etag_generation();
    v.etag += fmt::format("-g{}", gen);
    v.last_modified += static_cast<std::time_t>(gen);
    faults_.record("etag-change", req, fmt::format("\"generation\":{}", gen));
  }
  v.etag += "\"";

  const auto want_digest = req.header("want-repr-digest");
  if (want_digest == nullptr) {
    serve(ex, fd, v, plan, {});
    return;
  }
  const std::string key = v.abs + '\0' + v.etag;
  {
    std::lock_guard lock(digest_mutex_);
    if (auto it = digests_.find(key); it != digests_.end()) {
      serve(ex, fd, v, plan, it->second);
      return;
    }
  }
  auto self = shared_from_this();
  auto owned = std::make_shared<Fd>(fd);
  pool_.run(
      ex->executor(), [owned] { return file_digest_base64(owned->fd, "sha-256").value_or(""); },
      [self, ex, owned, v, plan, key](std::string digest) {
        {
          std::lock_guard lock(self->digest_mutex_);
          if (self->digests_.size() > 4096) self->digests_.clear();
          self->digests_[key] = digest;
        }
        const int fd2 = ::dup(owned->fd);
        self->serve(ex, fd2, v, plan, digest);
      });
}

void FileHandler::serve(const std::shared_ptr<Exchange>& ex, int fd, const Version& v,
                        const FaultPlan& plan, std::string digest) {
  auto owned = std::make_shared<Fd>(fd);
  const auto& req = ex->request();
  Headers h{{"accept-ranges", "bytes"},
            {"etag", v.etag},
            {"last-modified", http_date(v.last_modified)},
            {"cache-control", "no-cache"}};
  if (!digest.empty()) h.push_back({"repr-digest", "sha-256=:" + digest + ":"});

  RangeResult range;
  if (const auto* r = req.header("range"); r != nullptr) {
    range = parse_range(*r, v.size);
    if (const auto* ir = req.header("if-range"); ir != nullptr && range.kind != RangeResult::kIgnore) {
      const auto cond = trim(*ir);
      bool match = false;
      if (!cond.empty() && (cond.front() == '"' || cond.substr(0, 2) == "W/")) {
        match = cond == v.etag;  // strong comparison; weak tags never match
      } else if (const auto d = parse_http_date(cond)) {
        match = *d == v.last_modified;
      }
      if (!match) range = {};
    }
  }
  if (range.kind == RangeResult::kUnsatisfiable) {
    h.push_back({"content-range", fmt::format("bytes */{}", v.size)});
    respond(ex, 416, std::move(h), "range not satisfiable\n");
    return;
  }
  int status = 200;
  std::uint64_t first = 0;
  std::uint64_t end = v.size;
  if (range.kind == RangeResult::kSingle) {
    status = 206;
    first = range.first;
    end = range.last + 1;
    h.push_back({"content-range", fmt::format("bytes {}-{}/{}", first, range.last, v.size)});
  }
  h.push_back({"content-type", "application/octet-stream"});
  ex->send_response_head(status, h, end - first);
  if (req.method == "HEAD") {
    ex->finish();
    return;
  }
  auto sender = std::make_shared<Sender>();
  sender->ex = ex;
  sender->fd = std::move(owned);
  sender->pos = first;
  sender->end = end;
  sender->corrupt = plan.corrupt;
  sender->faults = &faults_;
  sender->next();
}

}  // namespace xts
