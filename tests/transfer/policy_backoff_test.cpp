#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "transfer/engine/backoff.h"

using namespace std::chrono_literals;
using xfer::engine::Backoff;
using xfer::engine::BackoffConfig;

TEST_CASE("backoff ceiling doubles from base and stops at the cap", "[policy][backoff]") {
  const Backoff b(BackoffConfig{100ms, 5000ms});
  CHECK(b.ceiling(0) == 100ms);
  CHECK(b.ceiling(1) == 200ms);
  CHECK(b.ceiling(5) == 3200ms);
  CHECK(b.ceiling(6) == 5000ms);
  CHECK(b.ceiling(63) == 5000ms);
  CHECK(b.ceiling(64) == 5000ms);
  CHECK(b.ceiling(std::numeric_limits<std::uint32_t>::max()) == 5000ms);
  // A cap below base is raised to base; a zero base means no waiting.
  CHECK(Backoff(BackoffConfig{1000ms, 10ms}).ceiling(3) == 1000ms);
  CHECK(Backoff(BackoffConfig{0ms, 10ms}).ceiling(3) == 0ms);
  const Backoff huge(BackoffConfig{1ms, std::chrono::milliseconds(std::numeric_limits<std::int64_t>::max() / 2)});
  CHECK(huge.ceiling(200).count() > 0);  // no overflow into negatives
}

TEST_CASE("full jitter stays within [0, ceiling] for every draw", "[policy][backoff]") {
  const Backoff b(BackoffConfig{250ms, 30'000ms});
  CHECK(b.delay_from(3, 0) == 0ms);
  CHECK(b.delay_from(3, 2000) == 2000ms);
  CHECK(b.delay_from(3, 2001) == 0ms);  // modulo (ceiling + 1)
  CHECK(b.delay_from(3, std::numeric_limits<std::uint64_t>::max()) <= 2000ms);
  std::mt19937_64 rng(12345);
  for (std::uint32_t attempt = 0; attempt < 40; ++attempt) {
    for (int i = 0; i < 200; ++i) {
      const auto d = b.delay(attempt, rng);
      REQUIRE(d >= 0ms);
      REQUIRE(d <= b.ceiling(attempt));
    }
  }
}

TEST_CASE("full jitter is roughly uniform (seeded)", "[policy][backoff]") {
  const Backoff b(BackoffConfig{1000ms, 1000ms});
  std::mt19937_64 rng(20260101);
  constexpr int kDraws = 100'000;
  std::vector<int> buckets(10, 0);
  double sum = 0;
  for (int i = 0; i < kDraws; ++i) {
    const auto d = b.delay(0, rng).count();
    sum += static_cast<double>(d);
    buckets[static_cast<std::size_t>(std::min<std::int64_t>(d / 100, 9))]++;
  }
  // Mean of U[0,1000] is 500; its standard error over 1e5 draws is ~0.9 ms.
  CHECK(std::abs(sum / kDraws - 500.0) < 5.0);
  // Each decile holds ~10 % (binomial sd ~0.1 %): allow 0.5 %.
  for (const int count : buckets) CHECK(std::abs(count - kDraws / 10) < kDraws / 200);
}

TEST_CASE("same seed, same delays - different seeds differ", "[policy][backoff]") {
  const Backoff b;
  std::mt19937_64 a(7), c(7), d(8);
  std::vector<std::int64_t> va, vc, vd;
  for (std::uint32_t i = 0; i < 20; ++i) {
    va.push_back(b.delay(i, a).count());
    vc.push_back(b.delay(i, c).count());
    vd.push_back(b.delay(i, d).count());
  }
  CHECK(va == vc);
  CHECK(va != vd);
}
