#include "tests/integration/fault_file_system.h"

#include <cerrno>
#include <cstdio>

#include <unistd.h>

#include "transfer/files/part_file.h"

namespace xfer::test {

class FaultFileSystem::FaultFile final : public files::File {
 public:
  FaultFile(FaultFileSystem& fs, std::unique_ptr<files::File> base, std::shared_ptr<State> state)
      : fs_(fs), base_(std::move(base)), state_(std::move(state)) {}

  Result<void> write_at(std::uint64_t offset, std::span<const std::uint8_t> data) override {
    if (auto r = fs_.check_power("write"); !r) return r;
    if (auto r = fs_.charge(data.size()); !r) return r;
    if (auto r = base_->write_at(offset, data); !r) return r;
    std::lock_guard lock(fs_.mu_);
    state_->size = std::max(state_->size, offset + data.size());
    return {};
  }
  Result<std::size_t> read_at(std::uint64_t offset, std::span<std::uint8_t> data) override {
    return base_->read_at(offset, data);
  }
  Result<void> sync_data() override { return sync_impl(); }
  Result<void> sync() override { return sync_impl(); }
  Result<void> truncate(std::uint64_t size) override {
    if (auto r = fs_.check_power("truncate"); !r) return r;
    if (auto r = base_->truncate(size); !r) return r;
    std::lock_guard lock(fs_.mu_);
    state_->size = size;
    state_->synced = std::min(state_->synced, size);
    return {};
  }
  Result<void> preallocate(std::uint64_t size) override {
    if (auto r = fs_.check_power("fallocate"); !r) return r;
    return base_->preallocate(size);
  }
  Result<std::uint64_t> size() override { return base_->size(); }
  Result<files::FileIdentity> identity() override { return base_->identity(); }

 private:
  Result<void> sync_impl() {
    std::uint64_t size_before = 0;
    {
      std::lock_guard lock(fs_.mu_);
      if (fs_.power_cut_) return std::unexpected(error_from_errno(EIO, "fdatasync (power cut)"));
      size_before = state_->size;
    }
    if (auto r = base_->sync_data(); !r) return r;
    std::lock_guard lock(fs_.mu_);
    if (fs_.power_cut_) return std::unexpected(error_from_errno(EIO, "fdatasync (power cut)"));
    state_->synced = std::max(state_->synced, std::min(size_before, state_->size));
    return {};
  }

  FaultFileSystem& fs_;
  std::unique_ptr<files::File> base_;
  std::shared_ptr<State> state_;
};

Result<void> FaultFileSystem::check_power(const char* what) {
  std::lock_guard lock(mu_);
  if (power_cut_) return std::unexpected(error_from_errno(EIO, std::string(what) + " (power cut)"));
  return {};
}

Result<void> FaultFileSystem::charge(std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  if (budget_ && written_ + bytes > *budget_)
    return std::unexpected(error_from_errno(ENOSPC, "writing (test budget)"));
  written_ += bytes;
  return {};
}

void FaultFileSystem::cut_power() {
  std::lock_guard lock(mu_);
  power_cut_ = true;
}

void FaultFileSystem::restore_power() {
  std::lock_guard lock(mu_);
  for (auto it = pending_renames_.rbegin(); it != pending_renames_.rend(); ++it) {
    if (::rename(it->to.c_str(), it->from.c_str()) != 0) continue;
    if (auto moved = files_.find(it->to); moved != files_.end()) {
      files_[it->from] = moved->second;
      files_.erase(moved);
    }
  }
  pending_renames_.clear();
  for (auto& [path, state] : files_) {
    if (::truncate(path.c_str(), static_cast<off_t>(state->synced)) == 0) state->size = state->synced;
  }
  power_cut_ = false;
}

void FaultFileSystem::set_space_budget(std::optional<std::uint64_t> bytes, bool report_room) {
  std::lock_guard lock(mu_);
  budget_ = bytes;
  report_room_ = report_room;
  written_ = 0;
}

Result<std::unique_ptr<files::File>> FaultFileSystem::open_part(const std::string& path) {
  if (auto r = check_power("open"); !r) return std::unexpected(r.error());
  auto file = base_.open_part(path);
  if (!file) return std::unexpected(file.error());
  auto size = (*file)->size();
  std::shared_ptr<State> state;
  {
    std::lock_guard lock(mu_);
    auto& slot = files_[path];
    if (!slot) {
      slot = std::make_shared<State>();
      // A file that existed before we saw it is taken as durable.
      slot->size = slot->synced = size ? *size : 0;
    }
    state = slot;
  }
  return std::unique_ptr<files::File>(new FaultFile(*this, std::move(*file), state));
}

Result<void> FaultFileSystem::rename(const std::string& from, const std::string& to) {
  if (auto r = check_power("rename"); !r) return r;
  if (auto r = base_.rename(from, to); !r) return r;
  std::lock_guard lock(mu_);
  if (auto it = files_.find(from); it != files_.end()) {
    files_[to] = it->second;
    files_.erase(it);
  }
  pending_renames_.push_back({from, to});
  return {};
}

Result<void> FaultFileSystem::sync_dir(const std::string& dir) {
  if (auto r = check_power("fsync dir"); !r) return r;
  if (auto r = base_.sync_dir(dir); !r) return r;
  std::lock_guard lock(mu_);
  // Power may have gone while the sync ran: then it made nothing durable.
  if (power_cut_) return std::unexpected(error_from_errno(EIO, "fsync dir (power cut)"));
  std::erase_if(pending_renames_, [&](const PendingRename& r) {
    return files::parent_directory(r.to) == dir;
  });
  return {};
}

Result<void> FaultFileSystem::remove(const std::string& path) {
  if (auto r = check_power("unlink"); !r) return r;
  if (auto r = base_.remove(path); !r) return r;
  std::lock_guard lock(mu_);
  files_.erase(path);
  return {};
}

Result<std::uint64_t> FaultFileSystem::free_space(const std::string& dir) {
  {
    std::lock_guard lock(mu_);
    if (budget_ && !report_room_) return *budget_ > written_ ? *budget_ - written_ : 0;
  }
  return base_.free_space(dir);
}

Result<void> FaultFileSystem::create_directories(const std::string& dir) {
  if (auto r = check_power("mkdir"); !r) return r;
  return base_.create_directories(dir);
}

}  // namespace xfer::test
