#include "transfer/engine/event_hub.h"

namespace xfer::engine {

void EventHub::emit(Event event) {
  if (callback_) {
    callback_(event);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (!event.terminal() && queue_.size() >= capacity_) return;
    queue_.push_back(std::move(event));
  }
  ready_.notify_one();
}

std::optional<Event> EventHub::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return std::nullopt;
  Event event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

void EventHub::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

}  // namespace xfer::engine
