#include "transfer/engine/event_hub.h"

#include <algorithm>

namespace xfer::engine {

void EventHub::emit(Event event) {
  if (callback_) {
    callback_(event);
    return;
  }
  bool was_empty;
  {
    std::lock_guard lock(mutex_);
    if (!event.terminal() && queue_.size() >= capacity_) return;
    was_empty = queue_.empty();
    queue_.push_back(std::move(event));
  }
  // A consumer only ever waits on an empty queue (or lingers until a deadline): one signal per
  // burst is enough, and spares a futex call per event.
  if (was_empty) ready_.notify_one();
}

std::optional<Event> EventHub::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return std::nullopt;
  Event event = std::move(queue_.front());
  queue_.pop_front();
  // emit() signals only the first event of a burst: pass it on to any other waiting consumer.
  if (!queue_.empty()) ready_.notify_one();
  return event;
}

std::vector<Event> EventHub::take(std::size_t max, std::chrono::milliseconds timeout,
                                  std::chrono::milliseconds linger) {
  std::vector<Event> out;
  if (max == 0) return out;
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return out;
  if (linger.count() > 0 && queue_.size() < max && !closed_)
    ready_.wait_for(lock, linger, [&] { return queue_.size() >= max || closed_; });
  const std::size_t n = std::min(max, queue_.size());
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  if (!queue_.empty()) ready_.notify_one();
  return out;
}

void EventHub::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

}  // namespace xfer::engine
