// EventHub: hands events from the engine thread to the app. With a callback configured, events
// are passed to it on the engine thread; otherwise they wait in a bounded queue for
// Engine::next_event. Informational events are dropped when the queue is full; terminal events
// never are (they are few, and the journal's outbox holds them anyway).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include <xfer/events.h>

namespace xfer::engine {

inline Event make_event(EventKind kind, TransferId id, std::uint64_t seq, TransferState state,
                        std::uint64_t bytes, std::optional<std::uint64_t> total,
                        std::string message) {
  Event e;
  e.kind = kind;
  e.id = id;
  e.seq = seq;
  e.state = state;
  e.bytes = bytes;
  e.total = total;
  e.message = std::move(message);
  return e;
}

class EventHub {
 public:
  explicit EventHub(std::function<void(const Event&)> callback, std::size_t capacity = 4096)
      : callback_(std::move(callback)), capacity_(capacity) {}

  void emit(Event event);
  std::optional<Event> next(std::chrono::milliseconds timeout);
  // Up to `max` events under one lock: waits at most `timeout` for the first, then up to
  // `linger` more for others to join it, so a consumer of thousands of events a second wakes
  // once per burst instead of once per event.
  std::vector<Event> take(std::size_t max, std::chrono::milliseconds timeout,
                          std::chrono::milliseconds linger);
  // Wakes every waiter (shutdown).
  void close();

 private:
  std::function<void(const Event&)> callback_;
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Event> queue_;
  bool closed_ = false;
};

}  // namespace xfer::engine
