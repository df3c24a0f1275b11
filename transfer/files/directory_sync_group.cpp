#include "transfer/files/directory_sync_group.h"

namespace xfer::files {

// Per directory: how many callers asked, how many are covered by a finished fsync, and the
// result of the newest finished one.
struct DirectorySyncGroup::Round {
  std::uint64_t requested = 0;
  std::uint64_t covered = 0;
  bool running = false;
  Result<void> last;
};

Result<void> DirectorySyncGroup::sync(
    const std::string& dir, const std::function<Result<void>(const std::string&)>& fsync_dir) {
  std::unique_lock lock(mutex_);
  auto& slot = rounds_[dir];
  if (!slot) slot = std::make_shared<Round>();
  const std::shared_ptr<Round> round = slot;
  const std::uint64_t ticket = ++round->requested;
  for (;;) {
    if (round->covered >= ticket) return round->last;
    if (!round->running) {
      // Every caller that has asked so far is covered by the fsync that starts now.
      round->running = true;
      const std::uint64_t upto = round->requested;
      lock.unlock();
      auto result = fsync_dir(dir);
      lock.lock();
      round->running = false;
      round->covered = upto;
      round->last = result;
      if (round->requested == upto) {
        const auto it = rounds_.find(dir);
        if (it != rounds_.end() && it->second == round) rounds_.erase(it);
      }
      finished_.notify_all();
      return result;
    }
    finished_.wait(lock);
  }
}

}  // namespace xfer::files
