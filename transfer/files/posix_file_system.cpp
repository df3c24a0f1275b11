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

 private:
  int fd_;
  std::string path_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open_rw(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return std::unexpected(error_from_errno(errno, fmt::format("opening {}", path)));
    return std::make_unique<PosixFile>(fd, path);
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

FileSystem& posix_file_system() {
  static PosixFileSystem fs;
  return fs;
}

}  // namespace xfer::files
