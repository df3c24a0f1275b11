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

Result<std::string> spool_input(const std::string& journal_dir, int fd,
                                const volatile std::sig_atomic_t& stop) {
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
  const auto give_up = [&](Error error) -> Result<std::string> {
    ::close(out);
    ::unlink(path.c_str());
    return std::unexpected(std::move(error));
  };
  std::vector<char> buffer(kBuffer);
  for (;;) {
    if (stop) return give_up(Error(ErrorCategory::Cancelled, "interrupted while reading stdin"));
    // Polled so that SIGINT (installed with SA_RESTART) is noticed while a pipe is quiet.
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, 200);
    if (ready < 0 && errno != EINTR)
      return give_up(io_error(ErrorCategory::LocalIo, "cannot read stdin", errno));
    if (ready <= 0) continue;
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return give_up(io_error(ErrorCategory::LocalIo, "cannot read stdin", errno));
    }
    if (n == 0) break;
    int err = 0;
    if (!write_all(out, buffer.data(), static_cast<std::size_t>(n), err))
      return give_up(io_error(ErrorCategory::LocalIo, "cannot write " + path.string(), err));
  }
  // The upload resumes from this file after a crash: it must be on disk before it is queued.
  if (::fdatasync(out) != 0)
    return give_up(io_error(ErrorCategory::LocalIo, "cannot sync " + path.string(), errno));
  if (::close(out) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    return std::unexpected(io_error(ErrorCategory::LocalIo, "cannot write " + path.string(), err));
  }
  if (const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    (void)::fsync(d);
    ::close(d);
  }
  return path.string();
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
