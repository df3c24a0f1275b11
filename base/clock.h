// Clock: the one place production code reads time. Pure logic (retry policy, backoff, rate
// limiter, circuit breaker, range and Retry-After decisions) takes time as an argument; the
// engine reads its Clock once per loop pass and passes the value down, and tests substitute
// tests/support/fake_clock.h. Promises: now() is monotonic (steady_clock); unix_millis() is
// the wall clock (may jump) and is only for comparing against HTTP dates.
#pragma once

#include <chrono>
#include <cstdint>

namespace xfer {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime now() const = 0;
  // Milliseconds since 1970-01-01T00:00:00Z (system clock).
  virtual std::int64_t unix_millis() const = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime now() const override { return SteadyClock::now(); }
  std::int64_t unix_millis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace xfer
