#include "cli/stdin_spool.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <vector>

#include <fmt/format.h>

namespace xfer::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kBuffer = 1 << 20;
// Growth is announced every this many bytes, or after this long with unannounced bytes: few
// calls for a fast pipe, prompt progress for a slow one.
constexpr std::uint64_t kAnnounceBytes = 8ull << 20;
constexpr std::chrono::milliseconds kAnnounceQuiet{250};

fs::path spool_dir(const std::string& journal_dir) { return fs::path(journal_dir) / "spool"; }

Error io_error(ErrorCategory category, const std::string& what, int err) {
  if (err == ENOSPC || err == EDQUOT) category = ErrorCategory::DiskFull;
  return Error(category, fmt::format("{}: {}", what, std::strerror(err)));
}

bool write_all_at(int fd, const char* data, std::size_t size, std::uint64_t offset, int& err) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

}  // namespace

Result<std::string> create_spool(const std::string& journal_dir, int fd) {
  if (::isatty(fd))
    return fail(ErrorCategory::InvalidArgument,
                "stdin is a terminal: pipe the data to upload into `xfer put -`");
  const auto dir = spool_dir(journal_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorCategory::LocalIo, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  (void)::chmod(dir.c_str(), 0700);  // what was piped in may be private
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto path =
      dir / fmt::format("stdin-{}-{}.bin",
                        std::chrono::duration_cast<std::chrono::milliseconds>(now).count(), ::getpid());
  const int out = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) return std::unexpected(io_error(ErrorCategory::LocalIo, "cannot create " + path.string(), errno));
  ::close(out);
  // Its name must survive a crash: the journal will point at it.
  if (const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    (void)::fsync(d);
    ::close(d);
  }
  return path.string();
}

SpoolFeeder::SpoolFeeder(int fd, std::string path, Engine& engine, TransferId id)
    : fd_(fd), path_(std::move(path)), engine_(engine), id_(id), thread_([this] { run(); }) {}

SpoolFeeder::~SpoolFeeder() {
  stop();
  if (thread_.joinable()) thread_.join();
}

SpoolFeeder::Outcome SpoolFeeder::wait() {
  if (thread_.joinable()) thread_.join();
  return outcome_;
}

void SpoolFeeder::run() {
  const auto done = [this](std::optional<Error> error) {
    failed_ = error.has_value();
    outcome_.error = std::move(error);
  };
  const int out = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  if (out < 0) return done(io_error(ErrorCategory::LocalIo, "cannot open " + path_, errno));
  // A larger pipe means fewer, larger moves (best effort: the limit is the system's).
  (void)::fcntl(fd_, F_SETPIPE_SZ, static_cast<int>(kBuffer));
  bool use_splice = true;  // until the kernel says stdin or the spool cannot
  std::vector<char> buffer;
  std::uint64_t announced = 0;
  auto last_announce = std::chrono::steady_clock::now();
  // Growth is announced once written: a crash of this process keeps it in the page cache, and
  // input cut off by a power loss cannot be finished anyway. Writeback starts at once, so the
  // one fdatasync that counts — before the end is announced, because after it the upload
  // resumes from this file even after a power loss — finds little left to write.
  const auto announce = [&](bool ended) -> std::optional<Error> {
    if (ended) {
      if (::fdatasync(out) != 0) return io_error(ErrorCategory::LocalIo, "cannot sync " + path_, errno);
    } else {
      (void)::sync_file_range(out, static_cast<off64_t>(announced),
                              static_cast<off64_t>(outcome_.bytes - announced), SYNC_FILE_RANGE_WRITE);
    }
    auto r = ended ? engine_.source_ended(id_, outcome_.bytes) : engine_.source_grew(id_, outcome_.bytes);
    if (!r) return r.error();
    announced = outcome_.bytes;
    last_announce = std::chrono::steady_clock::now();
    return std::nullopt;
  };
  const auto give_up = [&](Error error) {
    ::close(out);
    done(std::move(error));
  };
  for (;;) {
    if (stop_) {
      ::close(out);
      return done(std::nullopt);
    }
    if (outcome_.bytes > announced &&
        (outcome_.bytes - announced >= kAnnounceBytes ||
         std::chrono::steady_clock::now() - last_announce >= kAnnounceQuiet)) {
      if (auto e = announce(false)) return give_up(std::move(*e));
    }
    // Polled so that stop() is noticed while a pipe is quiet.
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, 100);
    if (ready < 0 && errno != EINTR) return give_up(io_error(ErrorCategory::LocalIo, "cannot read stdin", errno));
    if (ready <= 0) continue;
    ssize_t n = -1;
    if (use_splice) {
      // A pipe's pages move into the spool without a copy through this process.
      loff_t at = static_cast<loff_t>(outcome_.bytes);
      n = ::splice(fd_, nullptr, out, &at, kBuffer, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0 && errno == EINVAL) use_splice = false;  // stdin is no pipe, or the spool's fs
    }
    if (!use_splice) {
      if (buffer.empty()) buffer.resize(kBuffer);
      n = ::read(fd_, buffer.data(), buffer.size());
      if (n > 0) {
        int err = 0;
        if (!write_all_at(out, buffer.data(), static_cast<std::size_t>(n), outcome_.bytes, err))
          return give_up(io_error(ErrorCategory::LocalIo, "cannot write " + path_, err));
      }
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || (use_splice && errno == EINVAL)) continue;
      // A failed splice may be either side's: the spool's (a full disk) or stdin's.
      return give_up(io_error(ErrorCategory::LocalIo,
                              use_splice ? "cannot move stdin into " + path_ : std::string("cannot read stdin"),
                              errno));
    }
    if (n == 0) break;
    outcome_.bytes += static_cast<std::uint64_t>(n);
  }
  // The last bytes first, so that the upload sends them while the spool is flushed; the end
  // (which lets the upload complete) only once the flush is done.
  std::optional<Error> e;
  if (outcome_.bytes > announced) e = announce(false);
  if (!e) e = announce(true);
  if (::close(out) != 0 && !e) e = io_error(ErrorCategory::LocalIo, "cannot write " + path_, errno);
  outcome_.ended = !e;
  done(std::move(e));
}

std::size_t remove_unneeded_spools(Engine& engine, const std::string& journal_dir) {
  const auto dir = spool_dir(journal_dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  auto known = engine.journaled_paths();
  if (!known) return 0;  // cannot tell what is still needed: keep everything
  std::set<std::string> needed;
  // A failed upload is not resumed by the CLI (`xfer resume` takes unfinished ones): its spool
  // would only fill the disk.
  for (const auto& p : *known)
    if (p.direction == Direction::Upload && is_unfinished(p.state)) needed.insert(p.path);
  std::size_t removed = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto path = fs::absolute(it->path()).lexically_normal();
    if (path.extension() != ".bin" || path.filename().string().rfind("stdin-", 0) != 0) continue;
    if (needed.contains(path.string())) continue;
    std::error_code rm;
    if (fs::remove(path, rm)) ++removed;
  }
  return removed;
}

}  // namespace xfer::cli
