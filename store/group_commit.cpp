#include "store/group_commit.h"

#include <optional>

namespace xfer::store {

Result<void> GroupCommitQueue::submit(const Request& request, const ApplyFn& apply) {
  Waiter self(&request);
  std::unique_lock lock(mu_);
  queue_.push_back(&self);
  self.cv.wait(lock, [&] { return self.done || queue_.front() == &self; });
  if (self.done) return std::move(*self.result);

  // Leader: gather followers while the lock is held, apply without it so that newcomers
  // can queue up behind us (they form the next group).
  std::vector<Waiter*> group{&self};
  std::size_t weight = request.weight;
  if (grouping_) {
    for (std::size_t i = 1; i < queue_.size(); ++i) {
      Waiter* next = queue_[i];
      if (next->request->sync && !request.sync) break;
      if (weight + next->request->weight > max_group_weight_) break;
      weight += next->request->weight;
      group.push_back(next);
    }
  }
  std::vector<const Request*> requests;
  requests.reserve(group.size());
  for (Waiter* w : group) requests.push_back(w->request);
  lock.unlock();

  std::vector<Result<void>> results = apply(requests, request.sync);

  lock.lock();
  for (std::size_t i = 0; i < group.size(); ++i) {
    queue_.pop_front();
    if (group[i] == &self) continue;
    group[i]->result.emplace(std::move(results[i]));
    group[i]->done = true;
    group[i]->cv.notify_one();
  }
  if (!queue_.empty()) queue_.front()->cv.notify_one();
  return std::move(results[0]);
}

}  // namespace xfer::store
