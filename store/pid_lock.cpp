#include "store/pid_lock.h"

#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

namespace xfer::store {
namespace {

constexpr const char* kPidFileName = "xfer.pid";

std::string read_owner(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  std::string owner = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  while (!owner.empty() && (owner.back() == '\n' || owner.back() == ' ')) owner.pop_back();
  return owner.empty() ? "unknown" : owner;
}

Error io_error(int err, const std::string& what, const std::string& directory) {
  if (err == EROFS)
    return Error(ErrorCategory::LocalIo,
                 fmt::format("{} in journal {}: the directory is on a read-only filesystem", what, directory));
  Error e = error_from_errno(err, what);
  return e.with_context(fmt::format("journal {}", directory));
}

}  // namespace

Result<std::unique_ptr<PidLock>> PidLock::acquire(const std::string& directory) {
  const std::string path = directory + "/" + kPidFileName;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return std::unexpected(io_error(errno, "creating " + path, directory));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      const std::string owner = read_owner(fd);
      ::close(fd);
      // Retryable: the holder may be a short look (`xfer ls`) that lets go in milliseconds.
      return fail(ErrorCategory::Journal, fmt::format("journal {} in use by pid {}", directory, owner),
                  /*retryable=*/true);
    }
    ::close(fd);
    return std::unexpected(io_error(err, "locking " + path, directory));
  }
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    return std::unexpected(io_error(err, "writing " + path, directory));
  }
  return std::unique_ptr<PidLock>(new PidLock(fd));
}

PidLock::~PidLock() {
  // Closing the descriptor releases the flock; the file stays so its inode is stable.
  ::close(fd_);
}

}  // namespace xfer::store
