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
// Growth is announced (after an fdatasync) every this many bytes, or after this long with
// unannounced bytes: fewer syncs for a fast pipe, prompt progress for a slow one.
constexpr std::uint64_t kAnnounceBytes = 8ull << 20;
constexpr std::chrono::milliseconds kAnnounceQuiet{250};

fs::path spool_dir(const std::string& journal_dir) { return fs::path(journal_dir) / "spool"; }

Error io_error(ErrorCategory category, const std::string& what, int err) {
  if (err == ENOSPC || err == EDQUOT) category = ErrorCategory::DiskFull;
  return Error(category, fmt::format("{}: {}", what, std::strerror(err)));
}

bool write_all(int fd, const char* data, std::size_t size, int& err) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
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
  const int out = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (out < 0) return done(io_error(ErrorCategory::LocalIo, "cannot open " + path_, errno));
  std::vector<char> buffer(kBuffer);
  std::uint64_t announced = 0;
  auto last_announce = std::chrono::steady_clock::now();
  // The upload may read only what is on disk for good: synced, then announced.
  const auto announce = [&](bool ended) -> std::optional<Error> {
    if (::fdatasync(out) != 0) return io_error(ErrorCategory::LocalIo, "cannot sync " + path_, errno);
    auto r = ended ? engine_.source_ended(id_, outcome_.bytes) : engine_.source_grew(id_, outcome_.bytes);
    if (!r) return r.error();
    announced = outcome_.bytes;
    last_announce = std::chrono::steady_clock::now();
    return std::nullopt;
  };
  for (;;) {
    if (stop_) {
      ::close(out);
      return done(std::nullopt);
    }
    if (outcome_.bytes > announced &&
        (outcome_.bytes - announced >= kAnnounceBytes ||
         std::chrono::steady_clock::now() - last_announce >= kAnnounceQuiet)) {
      if (auto e = announce(false)) {
        ::close(out);
        return done(std::move(e));
      }
    }
    // Polled so that stop() is noticed while a pipe is quiet.
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, 100);
    if (ready < 0 && errno != EINTR) {
      const int err = errno;
      ::close(out);
      return done(io_error(ErrorCategory::LocalIo, "cannot read stdin", err));
    }
    if (ready <= 0) continue;
    const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      const int err = errno;
      ::close(out);
      return done(io_error(ErrorCategory::LocalIo, "cannot read stdin", err));
    }
    if (n == 0) break;
    int err = 0;
    if (!write_all(out, buffer.data(), static_cast<std::size_t>(n), err)) {
      ::close(out);
      return done(io_error(ErrorCategory::LocalIo, "cannot write " + path_, err));
    }
    outcome_.bytes += static_cast<std::uint64_t>(n);
  }
  auto e = announce(true);
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
