#include "transfer/engine/circuit_breaker.h"

#include <algorithm>

namespace xfer::engine {

std::string_view to_string(BreakerState state) {
  switch (state) {
    case BreakerState::Closed: return "closed";
    case BreakerState::Open: return "open";
    case BreakerState::HalfOpen: return "half-open";
  }
  return "unknown";
}

CircuitBreaker::CircuitBreaker(CircuitBreakerConfig config)
    : config_(config), current_cool_down_(config.cool_down) {
  if (config_.failure_threshold == 0) config_.failure_threshold = 1;
  if (config_.half_open_probes == 0) config_.half_open_probes = 1;
  if (config_.max_cool_down < config_.cool_down) config_.max_cool_down = config_.cool_down;
}

BreakerState CircuitBreaker::state(SteadyTime now) const {
  if (state_ == BreakerState::Open && now >= open_until_) return BreakerState::HalfOpen;
  return state_;
}

bool CircuitBreaker::allow(SteadyTime now) {
  if (state_ == BreakerState::Closed) return true;
  if (state_ == BreakerState::Open) {
    if (now < open_until_) return false;
    state_ = BreakerState::HalfOpen;
    probes_in_flight_ = 0;
  }
  if (probes_in_flight_ >= config_.half_open_probes) return false;
  ++probes_in_flight_;
  return true;
}

void CircuitBreaker::record_success(SteadyTime) {
  state_ = BreakerState::Closed;
  consecutive_failures_ = 0;
  probes_in_flight_ = 0;
  current_cool_down_ = config_.cool_down;
}

void CircuitBreaker::record_failure(SteadyTime now) {
  ++consecutive_failures_;
  switch (state(now)) {
    case BreakerState::Closed:
      if (consecutive_failures_ >= config_.failure_threshold) open(now);
      break;
    case BreakerState::HalfOpen:
      // The probe failed: the origin is still down, wait longer before the next probe.
      current_cool_down_ = std::min(current_cool_down_ * 2, config_.max_cool_down);
      open(now);
      break;
    case BreakerState::Open:
      // A request admitted before the breaker opened failed late; the cool-down stands.
      break;
  }
}

void CircuitBreaker::open(SteadyTime now) {
  state_ = BreakerState::Open;
  probes_in_flight_ = 0;
  open_until_ = now + current_cool_down_;
}

BreakerState CircuitBreakers::state(const std::string& origin, SteadyTime now) const {
  const auto it = breakers_.find(origin);
  return it == breakers_.end() ? BreakerState::Closed : it->second.state(now);
}

CircuitBreaker& CircuitBreakers::get(const std::string& origin) {
  auto it = breakers_.find(origin);
  if (it == breakers_.end()) it = breakers_.emplace(origin, CircuitBreaker(config_)).first;
  return it->second;
}

void CircuitBreakers::prune(SteadyTime now) {
  std::erase_if(breakers_, [&](const auto& entry) {
    return entry.second.state(now) == BreakerState::Closed &&
           entry.second.consecutive_failures() == 0;
  });
}

}  // namespace xfer::engine
