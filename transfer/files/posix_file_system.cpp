// POSIX implementation of the FileSystem seam: pwrite/pread/fdatasync/fallocate on raw fds.
#include <cerrno>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fmt/format.h>

#include "transfer/files/directory_sync_group.h"
#include "transfer/files/file_system.h"

namespace xfer::files {
namespace {

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }

  Result<void> write_at(std::uint64_t offset, std::span<const std::uint8_t> data) override {
    while (!data.empty()) {
      const ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return std::unexpected(error_from_errno(errno, fmt::format("writing {}", path_)));
      }
      data = data.subspan(static_cast<std::size_t>(n));
      offset += static_cast<std::uint64_t>(n);
    }
    return {};
  }

  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::uint8_t> data) override {
    for (;;) {
      const ssize_t n = ::pread(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR)
        return std::unexpected(error_from_errno(errno, fmt::format("reading {}", path_)));
    }
  }

  Result<void> sync_data() override {
    if (::fdatasync(fd_) != 0)
      return std::unexpected(error_from_errno(errno, fmt::format("fdatasync {}", path_)));
    return {};
  }

  Result<void> sync() override {
    if (::fsync(fd_) != 0)
      return std::unexpected(error_from_errno(errno, fmt::format("fsync {}", path_)));
    return {};
  }

  void start_writeback() override {
    // Only a hint: a file system without it (EINVAL, ESPIPE) still syncs correctly later.
    (void)::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
  }

  Result<void> truncate(std::uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      return std::unexpected(error_from_errno(errno, fmt::format("truncating {}", path_)));
    return {};
  }

  Result<void> preallocate(std::uint64_t size) override {
    if (size == 0) return {};
    if (::fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(size)) == 0) return {};
    if (errno == EOPNOTSUPP || errno == ENOSYS) return {};  // tmpfs of old kernels, some FUSE
    return std::unexpected(error_from_errno(errno, fmt::format("preallocating {}", path_)));
  }

  Result<std::uint64_t> size() override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0)
      return std::unexpected(error_from_errno(errno, fmt::format("stat {}", path_)));
    return static_cast<std::uint64_t>(st.st_size);
  }

  Result<FileIdentity> identity() override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0)
      return std::unexpected(error_from_errno(errno, fmt::format("stat {}", path_)));
    return FileIdentity{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  }

 private:
  int fd_;
  std::string path_;
};

FileKind kind_of(mode_t mode) {
  if (S_ISREG(mode)) return FileKind::Regular;
  if (S_ISDIR(mode)) return FileKind::Directory;
  if (S_ISLNK(mode)) return FileKind::Symlink;
  if (S_ISCHR(mode)) return FileKind::CharDevice;
  if (S_ISBLK(mode)) return FileKind::BlockDevice;
  if (S_ISFIFO(mode)) return FileKind::Fifo;
  if (S_ISSOCK(mode)) return FileKind::Socket;
  return FileKind::Other;
}

PathInfo info_of(const struct stat& st) {
  PathInfo info;
  info.kind = kind_of(st.st_mode);
  info.identity = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  info.owner = st.st_uid;
  info.links = st.st_nlink;
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return info;
}

Error refused_part(const std::string& path, std::string_view why) {
  return Error(ErrorCategory::LocalIo, fmt::format("refusing to use {}: {}", path, why));
}

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open_part(const std::string& path) override {
    // Look before opening: opening some devices has effects of its own (a tape rewinds).
    auto seen = inspect(path);
    if (!seen) return std::unexpected(seen.error());
    if (*seen && (*seen)->kind != FileKind::Regular)
      return std::unexpected(refused_part(path, fmt::format("it is a {}", to_string((*seen)->kind))));
    // O_NONBLOCK: a FIFO swapped in after the look must not hang the open; it is refused
    // below like every other non-regular file. Absent at the look: created exclusively at once
    // (anything that appeared since is refused by O_EXCL), one lookup fewer per new file.
    int fd = -1;
    if (*seen) fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (!*seen || (fd < 0 && errno == ENOENT))
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int err = errno;
      if (err == ELOOP) return std::unexpected(refused_part(path, "it is a symbolic link"));
      if (err == EEXIST)
        return std::unexpected(refused_part(path, "it appeared while xfer was creating it"));
      return std::unexpected(error_from_errno(err, fmt::format("opening {}", path)));
    }
    auto file = std::make_unique<PosixFile>(fd, path);
    struct stat st {};
    if (::fstat(fd, &st) != 0)
      return std::unexpected(error_from_errno(errno, fmt::format("stat {}", path)));
    if (!S_ISREG(st.st_mode))
      return std::unexpected(refused_part(path, fmt::format("it is a {}", to_string(kind_of(st.st_mode)))));
    if (st.st_uid != ::geteuid())
      return std::unexpected(refused_part(path, fmt::format("it belongs to uid {}", st.st_uid)));
    if (st.st_nlink != 1)
      return std::unexpected(refused_part(path, fmt::format("it has {} hard links", st.st_nlink)));
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return file;
  }

  Result<std::unique_ptr<File>> open_source(const std::string& path, PathInfo& info) override {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return std::unexpected(error_from_errno(errno, fmt::format("opening {}", path)));
    auto file = std::make_unique<PosixFile>(fd, path);
    struct stat st {};
    if (::fstat(fd, &st) != 0)
      return std::unexpected(error_from_errno(errno, fmt::format("stat {}", path)));
    if (!S_ISREG(st.st_mode))
      return std::unexpected(Error(ErrorCategory::InvalidArgument,
                                   fmt::format("cannot upload {}: it is a {}, not a regular file",
                                               path, to_string(kind_of(st.st_mode)))));
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    // Read once front to back: let the kernel read ahead generously.
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    info = info_of(st);
    return file;
  }

  Result<std::optional<PathInfo>> inspect(const std::string& path) override {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      // ENOTDIR: a parent is a file, so nothing can be at this path.
      if (errno == ENOENT || errno == ENOTDIR) return std::optional<PathInfo>{};
      return std::unexpected(error_from_errno(errno, fmt::format("stat {}", path)));
    }
    return std::optional<PathInfo>(info_of(st));
  }

  Result<std::optional<PathInfo>> inspect_target(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      // ENOTDIR: a parent is a file, so nothing can be at this path.
      if (errno == ENOENT || errno == ENOTDIR) return std::optional<PathInfo>{};
      return std::unexpected(error_from_errno(errno, fmt::format("stat {}", path)));
    }
    return std::optional<PathInfo>(info_of(st));
  }

  bool can_write_in(const std::string& dir) override {
    return ::access(dir.empty() ? "." : dir.c_str(), W_OK | X_OK) == 0;
  }

  Result<void> rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0)
      return std::unexpected(error_from_errno(errno, fmt::format("renaming {} to {}", from, to)));
    return {};
  }

  Result<void> sync_dir(const std::string& dir) override {
    return dir_syncs_.sync(dir, &PosixFileSystem::fsync_directory);
  }

  static Result<void> fsync_directory(const std::string& dir) {
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(error_from_errno(errno, fmt::format("opening {}", dir)));
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return std::unexpected(error_from_errno(err, fmt::format("fsync {}", dir)));
    return {};
  }

  Result<void> remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return std::unexpected(error_from_errno(errno, fmt::format("removing {}", path)));
    return {};
  }

  bool exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<std::uint64_t> free_space(const std::string& dir) override {
    struct statvfs st {};
    if (::statvfs(dir.empty() ? "." : dir.c_str(), &st) != 0)
      return std::unexpected(error_from_errno(errno, fmt::format("statvfs {}", dir)));
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  }

  Result<void> create_directories(const std::string& dir) override {
    if (dir.empty()) return {};
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return std::unexpected(error_from_errno(ec.value(), fmt::format("creating {}", dir)));
    return {};
  }

 private:
  DirectorySyncGroup dir_syncs_;
};

}  // namespace

std::string_view to_string(FileKind kind) {
  switch (kind) {
    case FileKind::Regular: return "regular file";
    case FileKind::Directory: return "directory";
    case FileKind::Symlink: return "symbolic link";
    case FileKind::CharDevice: return "character device";
    case FileKind::BlockDevice: return "block device";
    case FileKind::Fifo: return "FIFO";
    case FileKind::Socket: return "socket";
    case FileKind::Other: break;
  }
  return "special file";
}

FileSystem& posix_file_system() {
  static PosixFileSystem fs;
  return fs;
}

}  // namespace xfer::files
