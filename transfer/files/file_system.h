// FileSystem: the seam under every file the engine writes (".part" files and their
// directories). PosixFileSystem is the real one; tests substitute a fault-injecting one (drop
// every unsynced byte to simulate power loss, fail with ENOSPC on demand) to prove that a
// journaled offset never exceeds what is durably on disk (design.md invariant 1).
//
// Thread-safety: a File may be written on one thread while another thread syncs it (the engine
// writes on its loop thread and fdatasyncs on the blocking pool). Errors are values; ENOSPC and
// EDQUOT come back as ErrorCategory::DiskFull.
//
// Part files are opened so that nobody else can choose what xfer writes into: never through a
// symlink (O_NOFOLLOW), created exclusively (O_EXCL), and an existing one is reused only when it
// is a regular file owned by this user with a single link (so it cannot be someone else's file
// hard-linked or planted in a shared directory).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <xfer/error.h>

namespace xfer::files {

// Which file an inode is: compared before a rename so that only the part file xfer wrote (not
// one swapped in under its name) is renamed into place.
struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  bool operator==(const FileIdentity&) const = default;
};

enum class FileKind { Regular, Directory, Symlink, CharDevice, BlockDevice, Fifo, Socket, Other };

// What lstat says about a path (the link itself, not its target).
struct PathInfo {
  FileKind kind = FileKind::Other;
  FileIdentity identity;
  std::uint32_t owner = 0;  // uid
  std::uint64_t links = 1;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;  // modification time, nanoseconds since the epoch
};

std::string_view to_string(FileKind kind);

class File {
 public:
  virtual ~File() = default;
  // Writes all of `data` at `offset` (retrying short writes).
  virtual Result<void> write_at(std::uint64_t offset, std::span<const std::uint8_t> data) = 0;
  // Reads up to data.size() bytes at `offset`; returns the count (0 at end of file).
  virtual Result<std::size_t> read_at(std::uint64_t offset, std::span<std::uint8_t> data) = 0;
  virtual Result<void> sync_data() = 0;  // fdatasync: the bytes written so far are durable
  virtual Result<void> sync() = 0;       // fsync: bytes and metadata
  // A hint: start writing the dirty bytes back now, without waiting (sync_file_range), so a
  // later sync finds the device already busy with them. Durability still comes only from sync.
  virtual void start_writeback() {}
  virtual Result<void> truncate(std::uint64_t size) = 0;
  // Reserves blocks for `size` bytes without changing the file size (FALLOC_FL_KEEP_SIZE);
  // succeeds as a no-op where the file system cannot preallocate.
  virtual Result<void> preallocate(std::uint64_t size) = 0;
  virtual Result<std::uint64_t> size() = 0;
  virtual Result<FileIdentity> identity() = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Opens a part file for reading and writing: an existing one only if it is a regular file
  // owned by this user with one link (never through a symlink); an absent one is created
  // exclusively (mode 0644 before umask). Anything else is a LocalIo error naming the reason.
  virtual Result<std::unique_ptr<File>> open_part(const std::string& path) = 0;
  // Opens an upload's source for reading (symlinks followed: the user named the file). Only a
  // regular file: a FIFO or device has no stable bytes to resume from (LocalIo otherwise).
  // `info` receives what fstat says of the opened file, so the identity checked is the one read.
  virtual Result<std::unique_ptr<File>> open_source(const std::string& path, PathInfo& info) = 0;
  // lstat: nullopt when nothing is there.
  virtual Result<std::optional<PathInfo>> inspect(const std::string& path) = 0;
  // stat: like inspect, but follows symlinks (a dangling one reads as absent).
  virtual Result<std::optional<PathInfo>> inspect_target(const std::string& path) = 0;
  // This process may create and rename files in `dir` (write and search permission).
  virtual bool can_write_in(const std::string& dir) = 0;
  virtual Result<void> rename(const std::string& from, const std::string& to) = 0;
  // fsync of a directory, so a rename or create in it is durable.
  virtual Result<void> sync_dir(const std::string& dir) = 0;
  // Removes a file; absent is not an error.
  virtual Result<void> remove(const std::string& path) = 0;
  virtual bool exists(const std::string& path) = 0;
  // Bytes available to an unprivileged writer on the file system holding `dir`.
  virtual Result<std::uint64_t> free_space(const std::string& dir) = 0;
  // Creates `dir` and its parents when absent.
  virtual Result<void> create_directories(const std::string& dir) = 0;
};

// The process-wide POSIX implementation.
FileSystem& posix_file_system();

}  // namespace xfer::files
