// FaultLevelDbEnv: a leveldb::Env for journal tests that remembers, per file written through
// it, how many bytes were appended and how many were synced, so that a test can simulate a
// power failure: cut_power() makes every later write, sync, create, rename and delete fail
// (the process may keep running, but nothing more reaches the disk), and after the database
// is closed, restore_power() truncates every file to its synced length and deletes files
// created since their directory was last synced. It can also inject ENOSPC on writes/syncs
// and a read-only filesystem.
//
// Model (the same one as leveldb's own fault-injection test): syncing a file that was created
// since the last directory sync also makes its directory entry durable (leveldb's posix Env
// fsyncs the directory when it syncs a new MANIFEST, and CURRENT is written to a synced temp
// file before its rename). A rename moves the source's state to the target. Files not written
// through this Env (for example the info LOG) are treated as durable.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include <leveldb/env.h>

namespace xfer::test {

class FaultLevelDbEnv : public leveldb::EnvWrapper {
 public:
  FaultLevelDbEnv();
  ~FaultLevelDbEnv() override;

  // Appends, flushes and syncs fail with "No space left on device" while set.
  void set_disk_full(bool full);
  // Only Sync fails (EIO), as when the device reports a write error at fsync: appends still
  // succeed, and leveldb then refuses every later write until the database is reopened.
  void set_sync_fails(bool fails);
  // Creating, renaming, deleting, locking and writing fail with "Read-only file system".
  void set_read_only(bool read_only);

  // From now on nothing reaches the disk; operations fail with an IO error.
  void cut_power();
  // Call with no database open on this Env: drops every unsynced byte and every file created
  // since its directory was last synced, then lets writes through again.
  leveldb::Status restore_power();

  // What restore_power() dropped the last time (for tests that check the Env itself).
  std::uint64_t dropped_bytes() const;
  std::size_t dropped_files() const;
  // Bytes appended but not yet synced, across all tracked files.
  std::uint64_t unsynced_bytes() const;

  leveldb::Status NewWritableFile(const std::string& fname, leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& fname, leveldb::WritableFile** result) override;
  leveldb::Status RemoveFile(const std::string& fname) override;
  leveldb::Status RenameFile(const std::string& src, const std::string& target) override;
  leveldb::Status CreateDir(const std::string& dirname) override;
  leveldb::Status LockFile(const std::string& fname, leveldb::FileLock** lock) override;

 private:
  class TrackedFile;
  friend class TrackedFile;

  struct FileState {
    std::uint64_t size = 0;
    std::uint64_t synced = 0;
  };

  // The failure a write-like operation on `fname` must report now, or OK.
  leveldb::Status write_fault(const std::string& fname, bool creates) const;
  bool sync_fails() const;
  leveldb::Status appended(const std::string& fname, std::uint64_t bytes);
  leveldb::Status synced(const std::string& fname);

  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;
  std::set<std::string> created_since_dir_sync_;
  bool power_cut_ = false;
  bool sync_fails_ = false;
  bool disk_full_ = false;
  bool read_only_ = false;
  std::uint64_t dropped_bytes_ = 0;
  std::size_t dropped_files_ = 0;
};

}  // namespace xfer::test
