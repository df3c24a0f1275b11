// Per-origin circuit breaker, so a dead server is not hammered by every queued transfer.
// Closed: requests flow; `failure_threshold` consecutive failures open it. Open: nothing is
// admitted until the cool-down has passed, then it is half-open. Half-open: up to
// `half_open_probes` requests are admitted as probes; a success closes it, a failure opens it
// again with the cool-down doubled (up to `max_cool_down`). Pure: time is an argument.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.h"

namespace xfer::engine {

struct CircuitBreakerConfig {
  std::uint32_t failure_threshold = 5;
  std::chrono::milliseconds cool_down{10'000};
  std::chrono::milliseconds max_cool_down{300'000};
  std::uint32_t half_open_probes = 1;
};

enum class BreakerState { Closed, Open, HalfOpen };
std::string_view to_string(BreakerState state);

class CircuitBreaker {
 public:
  CircuitBreaker() = default;
  explicit CircuitBreaker(CircuitBreakerConfig config);

  // The state at `now` (Open turns HalfOpen once the cool-down is over).
  BreakerState state(SteadyTime now) const;
  // May a request start now? In half-open, each true answer uses up one probe.
  bool allow(SteadyTime now);
  // When an open breaker admits probes again (meaningful while Open).
  SteadyTime reopens_at() const { return open_until_; }
  std::uint32_t consecutive_failures() const { return consecutive_failures_; }

  void record_success(SteadyTime now);
  void record_failure(SteadyTime now);

 private:
  void open(SteadyTime now);

  CircuitBreakerConfig config_;
  BreakerState state_ = BreakerState::Closed;
  std::uint32_t consecutive_failures_ = 0;
  std::uint32_t probes_in_flight_ = 0;
  std::chrono::milliseconds current_cool_down_{config_.cool_down};
  SteadyTime open_until_{};
};

// One breaker per origin ("https://host:port"); origins are created on first use.
class CircuitBreakers {
 public:
  explicit CircuitBreakers(CircuitBreakerConfig config = {}) : config_(config) {}

  bool allow(const std::string& origin, SteadyTime now) { return get(origin).allow(now); }
  void record_success(const std::string& origin, SteadyTime now) { get(origin).record_success(now); }
  void record_failure(const std::string& origin, SteadyTime now) { get(origin).record_failure(now); }
  BreakerState state(const std::string& origin, SteadyTime now) const;
  CircuitBreaker& get(const std::string& origin);
  // Drops closed breakers with no recorded failures (keeps memory bounded).
  void prune(SteadyTime now);
  std::size_t size() const { return breakers_.size(); }

 private:
  CircuitBreakerConfig config_;
  std::unordered_map<std::string, CircuitBreaker> breakers_;
};

}  // namespace xfer::engine
