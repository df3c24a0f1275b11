// FaultFileSystem: the FileSystem seam (transfer/files/file_system.h) with faults, for engine
// tests. It remembers per file how many bytes exist and how many were synced, so a test can
// simulate a power loss (cut_power: every later write/sync/rename fails; restore_power: every
// file is cut back to its synced length), and it can run out of space (ENOSPC past a byte
// budget, optionally while statvfs still claims there is room, as on a shared disk).
// Model: a file's bytes are durable up to the length it had at its last sync_data/sync;
// rename moves that state, and is itself durable only once the target's directory was synced
// (restore_power undoes the renames no sync_dir covered, newest first). Enough for downloads,
// which append at each segment's cursor and publish by rename.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "transfer/files/file_system.h"

namespace xfer::test {

class FaultFileSystem final : public files::FileSystem {
 public:
  explicit FaultFileSystem(files::FileSystem& base = files::posix_file_system()) : base_(base) {}

  void cut_power();
  void restore_power();
  // Writes fail with ENOSPC once this many bytes were written in total (nullopt: no limit).
  // With `report_room`, free_space() still reports plenty (the early check cannot see it).
  void set_space_budget(std::optional<std::uint64_t> bytes, bool report_room = false);

  Result<std::unique_ptr<files::File>> open_part(const std::string& path) override;
  Result<std::unique_ptr<files::File>> open_source(const std::string& path,
                                                   files::PathInfo& info) override {
    return base_.open_source(path, info);
  }
  Result<std::optional<files::PathInfo>> inspect(const std::string& path) override {
    return base_.inspect(path);
  }
  Result<std::optional<files::PathInfo>> inspect_target(const std::string& path) override {
    return base_.inspect_target(path);
  }
  bool can_write_in(const std::string& dir) override { return base_.can_write_in(dir); }
  Result<void> rename(const std::string& from, const std::string& to) override;
  Result<void> sync_dir(const std::string& dir) override;
  Result<void> remove(const std::string& path) override;
  bool exists(const std::string& path) override { return base_.exists(path); }
  Result<std::uint64_t> free_space(const std::string& dir) override;
  Result<void> create_directories(const std::string& dir) override;

  struct State {
    std::uint64_t size = 0;
    std::uint64_t synced = 0;
  };

 private:
  class FaultFile;
  friend class FaultFile;
  Result<void> check_power(const char* what);
  Result<void> charge(std::uint64_t bytes);

  files::FileSystem& base_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<State>> files_;
  struct PendingRename {
    std::string from, to;
  };
  std::vector<PendingRename> pending_renames_;  // in the order they happened
  bool power_cut_ = false;
  std::optional<std::uint64_t> budget_;
  bool report_room_ = false;
  std::uint64_t written_ = 0;
};

}  // namespace xfer::test
