#include "tests/support/fault_leveldb_env.h"

#include <cerrno>
#include <cstring>
#include <memory>

#include <unistd.h>

namespace xfer::test {
namespace {

std::string dir_of(const std::string& fname) {
  const auto slash = fname.find_last_of('/');
  return slash == std::string::npos ? std::string() : fname.substr(0, slash);
}

}  // namespace

// Forwards to the real file and reports appends and syncs to the Env, which decides whether
// the operation is allowed (faults) and what is durable.
class FaultLevelDbEnv::TrackedFile : public leveldb::WritableFile {
 public:
  TrackedFile(FaultLevelDbEnv* env, std::string name, leveldb::WritableFile* target)
      : env_(env), name_(std::move(name)), target_(target) {}

  leveldb::Status Append(const leveldb::Slice& data) override {
    if (auto fault = env_->write_fault(name_, false); !fault.ok()) return fault;
    leveldb::Status s = target_->Append(data);
    if (s.ok()) s = env_->appended(name_, data.size());
    return s;
  }
  leveldb::Status Close() override { return target_->Close(); }
  leveldb::Status Flush() override {
    if (auto fault = env_->write_fault(name_, false); !fault.ok()) return fault;
    return target_->Flush();
  }
  leveldb::Status Sync() override {
    if (auto fault = env_->write_fault(name_, false); !fault.ok()) return fault;
    if (env_->sync_fails()) return leveldb::Status::IOError(name_, std::strerror(EIO));
    leveldb::Status s = target_->Sync();
    if (s.ok()) s = env_->synced(name_);
    return s;
  }

 private:
  FaultLevelDbEnv* env_;
  std::string name_;
  std::unique_ptr<leveldb::WritableFile> target_;
};

FaultLevelDbEnv::FaultLevelDbEnv() : leveldb::EnvWrapper(leveldb::Env::Default()) {}
FaultLevelDbEnv::~FaultLevelDbEnv() = default;

void FaultLevelDbEnv::set_disk_full(bool full) {
  std::lock_guard lock(mu_);
  disk_full_ = full;
}

void FaultLevelDbEnv::set_read_only(bool read_only) {
  std::lock_guard lock(mu_);
  read_only_ = read_only;
}

void FaultLevelDbEnv::set_sync_fails(bool fails) {
  std::lock_guard lock(mu_);
  sync_fails_ = fails;
}

bool FaultLevelDbEnv::sync_fails() const {
  std::lock_guard lock(mu_);
  return sync_fails_;
}

void FaultLevelDbEnv::cut_power() {
  std::lock_guard lock(mu_);
  power_cut_ = true;
}

leveldb::Status FaultLevelDbEnv::write_fault(const std::string& fname, bool creates) const {
  std::lock_guard lock(mu_);
  if (power_cut_) return leveldb::Status::IOError(fname, "power cut (simulated)");
  if (read_only_) return leveldb::Status::IOError(fname, std::strerror(EROFS));
  if (disk_full_ && !creates) return leveldb::Status::IOError(fname, std::strerror(ENOSPC));
  return leveldb::Status::OK();
}

leveldb::Status FaultLevelDbEnv::appended(const std::string& fname, std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  // A write racing with cut_power() counts as lost: report it as failed.
  if (power_cut_) return leveldb::Status::IOError(fname, "power cut (simulated)");
  files_[fname].size += bytes;
  return leveldb::Status::OK();
}

leveldb::Status FaultLevelDbEnv::synced(const std::string& fname) {
  std::lock_guard lock(mu_);
  // Checked under the same lock as cut_power(): a sync that reports success is recorded.
  if (power_cut_) return leveldb::Status::IOError(fname, "power cut (simulated)");
  FileState& state = files_[fname];
  state.synced = state.size;
  if (created_since_dir_sync_.count(fname) != 0) {
    const std::string dir = dir_of(fname);
    for (auto it = created_since_dir_sync_.begin(); it != created_since_dir_sync_.end();)
      it = dir_of(*it) == dir ? created_since_dir_sync_.erase(it) : std::next(it);
  }
  return leveldb::Status::OK();
}

leveldb::Status FaultLevelDbEnv::NewWritableFile(const std::string& fname, leveldb::WritableFile** result) {
  if (auto fault = write_fault(fname, true); !fault.ok()) return fault;
  leveldb::WritableFile* file = nullptr;
  leveldb::Status s = target()->NewWritableFile(fname, &file);
  if (!s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    files_[fname] = FileState{};  // truncated on open
    created_since_dir_sync_.insert(fname);
  }
  *result = new TrackedFile(this, fname, file);
  return s;
}

leveldb::Status FaultLevelDbEnv::NewAppendableFile(const std::string& fname, leveldb::WritableFile** result) {
  if (auto fault = write_fault(fname, true); !fault.ok()) return fault;
  const bool existed = target()->FileExists(fname);
  std::uint64_t size = 0;
  if (existed) target()->GetFileSize(fname, &size);
  leveldb::WritableFile* file = nullptr;
  leveldb::Status s = target()->NewAppendableFile(fname, &file);
  if (!s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    if (files_.count(fname) == 0) files_[fname] = FileState{size, size};  // untracked before: durable
    if (!existed) created_since_dir_sync_.insert(fname);
  }
  *result = new TrackedFile(this, fname, file);
  return s;
}

leveldb::Status FaultLevelDbEnv::RemoveFile(const std::string& fname) {
  if (auto fault = write_fault(fname, true); !fault.ok()) return fault;
  leveldb::Status s = target()->RemoveFile(fname);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    files_.erase(fname);
    created_since_dir_sync_.erase(fname);
  }
  return s;
}

leveldb::Status FaultLevelDbEnv::RenameFile(const std::string& src, const std::string& target_name) {
  if (auto fault = write_fault(src, true); !fault.ok()) return fault;
  leveldb::Status s = target()->RenameFile(src, target_name);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    if (auto it = files_.find(src); it != files_.end()) {
      files_[target_name] = it->second;
      files_.erase(src);
    } else {
      files_.erase(target_name);
    }
    created_since_dir_sync_.erase(target_name);
    if (created_since_dir_sync_.erase(src) != 0) created_since_dir_sync_.insert(target_name);
  }
  return s;
}

leveldb::Status FaultLevelDbEnv::CreateDir(const std::string& dirname) {
  if (auto fault = write_fault(dirname, true); !fault.ok()) return fault;
  return target()->CreateDir(dirname);
}

leveldb::Status FaultLevelDbEnv::LockFile(const std::string& fname, leveldb::FileLock** lock) {
  if (auto fault = write_fault(fname, true); !fault.ok()) return fault;
  return target()->LockFile(fname, lock);
}

leveldb::Status FaultLevelDbEnv::restore_power() {
  std::lock_guard lock(mu_);
  dropped_bytes_ = 0;
  dropped_files_ = 0;
  for (const std::string& fname : created_since_dir_sync_) {
    if (::unlink(fname.c_str()) != 0 && errno != ENOENT) return leveldb::Status::IOError(fname, std::strerror(errno));
    if (auto it = files_.find(fname); it != files_.end()) dropped_bytes_ += it->second.size;
    files_.erase(fname);
    ++dropped_files_;
  }
  created_since_dir_sync_.clear();
  // Truncate even when no unsynced append was recorded: appends refused after the cut may
  // still have reached the file when leveldb flushed its buffer on close.
  for (auto& [fname, state] : files_) {
    std::uint64_t on_disk = 0;
    if (!target()->GetFileSize(fname, &on_disk).ok() || on_disk <= state.synced) {
      state.size = state.synced;
      continue;
    }
    if (::truncate(fname.c_str(), static_cast<off_t>(state.synced)) != 0)
      return leveldb::Status::IOError(fname, std::strerror(errno));
    dropped_bytes_ += on_disk - state.synced;
    state.size = state.synced;
  }
  power_cut_ = false;
  return leveldb::Status::OK();
}

std::uint64_t FaultLevelDbEnv::dropped_bytes() const {
  std::lock_guard lock(mu_);
  return dropped_bytes_;
}

std::size_t FaultLevelDbEnv::dropped_files() const {
  std::lock_guard lock(mu_);
  return dropped_files_;
}

std::uint64_t FaultLevelDbEnv::unsynced_bytes() const {
  std::lock_guard lock(mu_);
  std::uint64_t total = 0;
  for (const auto& [fname, state] : files_) total += state.size - state.synced;
  return total;
}

}  // namespace xfer::test
