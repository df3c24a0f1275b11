#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "tests/support/fake_clock.h"
#include "transfer/engine/rate_limiter.h"

using namespace std::chrono_literals;
using namespace xfer::engine;
using xfer::test::FakeClock;

TEST_CASE("token bucket: burst, refill and time_until", "[policy][rate]") {
  FakeClock clock;
  TokenBucket b(1000, 500, clock.now());
  CHECK_FALSE(b.unlimited());
  CHECK(b.available(clock.now()) == 500);
  CHECK(b.try_take(500, clock.now()));
  CHECK_FALSE(b.try_take(1, clock.now()));
  CHECK(b.time_until(1, clock.now()) == 1ms);
  CHECK(b.time_until(100, clock.now()) == 100ms);
  clock.advance(100ms);
  CHECK(b.available(clock.now()) == 100);
  CHECK(b.try_take(100, clock.now()));
  clock.advance(10s);
  CHECK(b.available(clock.now()) == 500);  // capped at burst
  CHECK(b.time_until(0, clock.now()) == 0ns);
}

TEST_CASE("token bucket: debt from charge() and oversized takes", "[policy][rate]") {
  FakeClock clock;
  TokenBucket b(1000, 100, clock.now());
  b.charge(300, clock.now());  // 100 tokens - 300 = 200 in debt
  CHECK(b.available(clock.now()) == 0);
  CHECK(b.time_until(0, clock.now()) == 200ms);
  clock.advance(200ms);
  CHECK(b.time_until(0, clock.now()) == 0ns);
  // More than the burst: allowed only from a full bucket, never starved.
  CHECK_FALSE(b.try_take(150, clock.now()));
  clock.advance(100ms);
  CHECK(b.try_take(150, clock.now()));
  CHECK(b.time_until(0, clock.now()) == 50ms);
  // Waiting for more than the burst is bounded by a full bucket.
  CHECK(b.time_until(10'000, clock.now()) == 150ms);
}

TEST_CASE("token bucket: rate 0 is unlimited - rate changes keep earned tokens", "[policy][rate]") {
  FakeClock clock;
  TokenBucket unlimited;
  CHECK(unlimited.unlimited());
  CHECK(unlimited.try_take(1ull << 40, clock.now()));
  unlimited.charge(1ull << 40, clock.now());
  CHECK(unlimited.time_until(1ull << 40, clock.now()) == 0ns);
  unlimited.set_rate(100, 0, clock.now());  // burst 0 = one second of rate; starts full
  CHECK(unlimited.burst() == 100);
  CHECK(unlimited.available(clock.now()) == 100);
  unlimited.charge(150, clock.now());
  unlimited.set_rate(1000, 1000, clock.now());  // debt carries over
  CHECK(unlimited.time_until(0, clock.now()) == 50ms);
  unlimited.set_rate(0, 0, clock.now());
  CHECK(unlimited.time_until(5, clock.now()) == 0ns);
}

TEST_CASE("token bucket: a stale 'now' earns nothing", "[policy][rate]") {
  FakeClock clock;
  TokenBucket b(1000, 100, clock.now());
  CHECK(b.try_take(100, clock.now()));
  const auto earlier = clock.now() - 1s;
  CHECK_FALSE(b.try_take(1, earlier));
  CHECK(b.time_until(10, earlier) == 10ms);
}

namespace {

// Drives one stream as fast as the limiter lets it over `duration` of simulated time: each
// chunk arrives, is charged, and the stream pauses for the wait returned. Returns bytes moved.
std::uint64_t run_stream(TokenBucket& bucket, FakeClock& clock, std::chrono::seconds duration,
                         std::mt19937_64& rng, std::uint64_t max_chunk) {
  const auto end = clock.now() + duration;
  std::uint64_t bytes = 0;
  std::uniform_int_distribution<std::uint64_t> chunk(1, max_chunk);
  while (clock.now() < end) {
    const auto n = chunk(rng);
    bucket.charge(n, clock.now());
    bytes += n;
    const auto wait = bucket.time_until(0, clock.now());
    clock.advance(wait > 0ns ? wait : std::chrono::nanoseconds(50'000));  // 50 us per chunk minimum
  }
  return bytes;
}

}  // namespace

TEST_CASE("token bucket: long-run average within 1 % over simulated hours", "[policy][rate]") {
  std::mt19937_64 rng(4242);
  for (const std::uint64_t rate : {std::uint64_t{10'000}, std::uint64_t{1'000'000}, std::uint64_t{50'000'000}}) {
    FakeClock clock;
    TokenBucket bucket(rate, rate / 4, clock.now());
    const auto start = clock.now();
    const auto hours = rate >= 50'000'000 ? 1h : 3h;
    const std::uint64_t max_chunk = std::max<std::uint64_t>(rate / 50, 64);
    const auto bytes = run_stream(bucket, clock, hours, rng, max_chunk);
    const double seconds = std::chrono::duration<double>(clock.now() - start).count();
    const double average = static_cast<double>(bytes) / seconds;
    INFO("rate " << rate << " average " << average);
    CHECK(std::abs(average - static_cast<double>(rate)) / static_cast<double>(rate) < 0.01);
  }
}

TEST_CASE("rate limits: global + per-origin + per-transfer, the longest wait wins", "[policy][rate]") {
  FakeClock clock;
  RateLimits::Config config;
  config.global_rate = 1'000'000;
  config.per_origin_rate = 600'000;
  config.per_transfer_rate = 250'000;
  config.burst = 100ms;
  RateLimits limits(config, clock.now());

  SECTION("a single transfer is held to its own rate") {
    auto wait = limits.charge("https://a", 1, 25'000 + 50'000, clock.now());
    CHECK(wait == 200ms);  // per-transfer bucket: 25 000 burst, 50 000 in debt at 250 kB/s
    CHECK(limits.wait("https://a", 1, clock.now()) == 200ms);
    clock.advance(200ms);
    CHECK(limits.wait("https://a", 1, clock.now()) == 0ns);
  }
  SECTION("simulated hour: per-origin and global caps hold for many transfers") {
    struct Stream {
      std::string origin;
      std::uint64_t id;
      xfer::SteadyTime next;
      std::uint64_t bytes = 0;
    };
    std::vector<Stream> streams;
    for (std::uint64_t i = 0; i < 6; ++i) {
      streams.push_back({i < 3 ? "https://a" : "https://b", i, clock.now()});
    }
    streams.push_back({"https://c", 6, clock.now()});
    limits.set_transfer_rate(6, 0, clock.now());  // unlimited transfer, still bound by global
    const auto start = clock.now();
    const auto end = start + 1h;
    std::mt19937_64 rng(77);
    std::uniform_int_distribution<std::uint64_t> chunk(1000, 16'384);
    while (true) {
      auto it = std::min_element(streams.begin(), streams.end(),
                                 [](const Stream& x, const Stream& y) { return x.next < y.next; });
      if (it->next >= end) break;
      if (it->next > clock.now()) clock.advance(it->next - clock.now());
      const auto n = chunk(rng);
      it->bytes += n;
      const auto wait = limits.charge(it->origin, it->id, n, clock.now());
      it->next = clock.now() + std::max<std::chrono::nanoseconds>(wait, 20us);
    }
    const double seconds = std::chrono::duration<double>(clock.now() - start).count();
    std::uint64_t total = 0, origin_a = 0;
    for (const auto& s : streams) {
      total += s.bytes;
      if (s.origin == "https://a") origin_a += s.bytes;
      if (s.id != 6) CHECK(static_cast<double>(s.bytes) / seconds <= 250'000 * 1.01);
    }
    const double total_rate = static_cast<double>(total) / seconds;
    INFO("total rate " << total_rate << " origin a " << origin_a / seconds);
    CHECK(std::abs(total_rate - 1'000'000.0) / 1'000'000.0 < 0.01);
    CHECK(static_cast<double>(origin_a) / seconds <= 600'000 * 1.01);
    limits.forget_transfer(6);
    limits.forget_origin("https://c");
  }
  SECTION("global rate 0 means unlimited everywhere when nothing else is set") {
    RateLimits open(RateLimits::Config{}, clock.now());
    CHECK(open.charge("https://x", 9, 1ull << 40, clock.now()) == 0ns);
    open.set_global_rate(1000, clock.now());
    CHECK(open.charge("https://x", 9, 1250, clock.now()) == 1s);  // 250 burst, 1000 in debt
  }
}
