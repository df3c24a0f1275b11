// FakeClock: a manual Clock for tests. Time only moves when the test says so; steady and wall
// time advance together, and the wall clock can also be set on its own to model a clock jump.
#pragma once

#include <chrono>
#include <cstdint>

#include "base/clock.h"

namespace xfer::test {

class FakeClock final : public Clock {
 public:
  // Starts at an arbitrary non-zero steady time and 2026-01-01T00:00:00Z wall time.
  FakeClock() = default;
  explicit FakeClock(std::int64_t unix_millis) : unix_millis_(unix_millis) {}

  SteadyTime now() const override { return now_; }
  std::int64_t unix_millis() const override { return unix_millis_; }

  template <typename Rep, typename Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    const auto step = std::chrono::duration_cast<SteadyClock::duration>(d);
    now_ += step;
    unix_millis_ += std::chrono::duration_cast<std::chrono::milliseconds>(step).count();
  }
  void set_unix_millis(std::int64_t unix_millis) { unix_millis_ = unix_millis; }

 private:
  SteadyTime now_ = SteadyTime{} + std::chrono::hours(1000);
  std::int64_t unix_millis_ = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
};

}  // namespace xfer::test
