// Group commit above leveldb: callers queue their request; the one at the front becomes the
// leader, takes the queued requests behind it (up to a limit) and applies them as one write,
// then wakes the followers with their results. So N threads that want a synced write while
// an fsync is in flight share the next fsync instead of queueing N fsyncs.
// Rules: a Buffered request may ride in a Synced group (syncing more is harmless), a Synced
// request never rides in a Buffered group. With grouping disabled every request is applied
// alone, in arrival order (the benchmark's baseline). Requests are applied in FIFO order.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include <xfer/error.h>

namespace xfer::store {

class GroupCommitQueue {
 public:
  struct Request {
    void* payload = nullptr;
    bool sync = false;
    std::size_t weight = 1;  // roughly the bytes it adds; bounds the size of a group
  };
  // Applies a group as one write (synced when `sync`) and returns one result per request.
  using ApplyFn = std::function<std::vector<Result<void>>(std::span<const Request* const> group, bool sync)>;

  GroupCommitQueue(bool grouping, std::size_t max_group_weight)
      : grouping_(grouping), max_group_weight_(max_group_weight) {}

  Result<void> submit(const Request& request, const ApplyFn& apply);

 private:
  struct Waiter {
    explicit Waiter(const Request* r) : request(r) {}
    const Request* request;
    bool done = false;
    std::optional<Result<void>> result;
    std::condition_variable cv;
  };

  const bool grouping_;
  const std::size_t max_group_weight_;
  std::mutex mu_;
  std::deque<Waiter*> queue_;
};

}  // namespace xfer::store
