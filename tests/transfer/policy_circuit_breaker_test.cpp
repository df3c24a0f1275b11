#include <catch2/catch.hpp>

#include "tests/support/fake_clock.h"
#include "transfer/engine/circuit_breaker.h"

using namespace std::chrono_literals;
using namespace xfer::engine;
using xfer::test::FakeClock;

namespace {

CircuitBreakerConfig config() {
  CircuitBreakerConfig c;
  c.failure_threshold = 3;
  c.cool_down = 10s;
  c.max_cool_down = 35s;
  c.half_open_probes = 1;
  return c;
}

}  // namespace

TEST_CASE("breaker opens after N consecutive failures only", "[policy][breaker]") {
  FakeClock clock;
  CircuitBreaker b(config());
  CHECK(b.state(clock.now()) == BreakerState::Closed);
  b.record_failure(clock.now());
  b.record_failure(clock.now());
  b.record_success(clock.now());  // resets the streak
  b.record_failure(clock.now());
  b.record_failure(clock.now());
  CHECK(b.allow(clock.now()));
  CHECK(b.state(clock.now()) == BreakerState::Closed);
  b.record_failure(clock.now());
  CHECK(b.state(clock.now()) == BreakerState::Open);
  CHECK_FALSE(b.allow(clock.now()));
  CHECK(b.reopens_at() == clock.now() + 10s);
  CHECK(b.consecutive_failures() == 3);
}

TEST_CASE("breaker goes half-open after the cool-down and admits one probe", "[policy][breaker]") {
  FakeClock clock;
  CircuitBreaker b(config());
  for (int i = 0; i < 3; ++i) b.record_failure(clock.now());
  clock.advance(9999ms);
  CHECK_FALSE(b.allow(clock.now()));
  clock.advance(1ms);
  CHECK(b.state(clock.now()) == BreakerState::HalfOpen);
  CHECK(b.allow(clock.now()));
  CHECK_FALSE(b.allow(clock.now()));  // only one probe at a time
  SECTION("a successful probe closes it") {
    b.record_success(clock.now());
    CHECK(b.state(clock.now()) == BreakerState::Closed);
    CHECK(b.allow(clock.now()));
    CHECK(b.allow(clock.now()));
    CHECK(b.consecutive_failures() == 0);
  }
  SECTION("a failed probe reopens with a doubled, capped cool-down") {
    b.record_failure(clock.now());
    CHECK(b.state(clock.now()) == BreakerState::Open);
    CHECK(b.reopens_at() == clock.now() + 20s);
    clock.advance(20s);
    CHECK(b.allow(clock.now()));
    b.record_failure(clock.now());
    CHECK(b.reopens_at() == clock.now() + 35s);  // 40 s capped at 35 s
    clock.advance(35s);
    CHECK(b.allow(clock.now()));
    b.record_failure(clock.now());
    CHECK(b.reopens_at() == clock.now() + 35s);
    clock.advance(35s);
    CHECK(b.allow(clock.now()));
    b.record_success(clock.now());
    // After closing, the next opening starts from the base cool-down again.
    for (int i = 0; i < 3; ++i) b.record_failure(clock.now());
    CHECK(b.reopens_at() == clock.now() + 10s);
  }
}

TEST_CASE("late failures while open do not extend the cool-down", "[policy][breaker]") {
  FakeClock clock;
  CircuitBreaker b(config());
  for (int i = 0; i < 3; ++i) b.record_failure(clock.now());
  const auto reopen = b.reopens_at();
  clock.advance(5s);
  b.record_failure(clock.now());
  CHECK(b.reopens_at() == reopen);
}

TEST_CASE("several probes when configured", "[policy][breaker]") {
  FakeClock clock;
  auto c = config();
  c.half_open_probes = 2;
  CircuitBreaker b(c);
  for (int i = 0; i < 3; ++i) b.record_failure(clock.now());
  clock.advance(10s);
  CHECK(b.allow(clock.now()));
  CHECK(b.allow(clock.now()));
  CHECK_FALSE(b.allow(clock.now()));
}

TEST_CASE("breakers are per origin and prunable", "[policy][breaker]") {
  FakeClock clock;
  CircuitBreakers set(config());
  for (int i = 0; i < 3; ++i) set.record_failure("https://dead:443", clock.now());
  set.record_success("https://alive:443", clock.now());
  CHECK_FALSE(set.allow("https://dead:443", clock.now()));
  CHECK(set.allow("https://alive:443", clock.now()));
  CHECK(set.allow("https://new:443", clock.now()));
  CHECK(set.state("https://never-seen:443", clock.now()) == BreakerState::Closed);
  CHECK(set.size() == 3);
  set.prune(clock.now());
  CHECK(set.size() == 1);  // only the open one is worth remembering
  CHECK(set.state("https://dead:443", clock.now()) == BreakerState::Open);
  CHECK(to_string(BreakerState::HalfOpen) == "half-open");
}
