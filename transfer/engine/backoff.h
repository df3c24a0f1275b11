// Exponential backoff with full jitter (the AWS "full jitter" scheme): before retry number
// `attempt` (0 for the first retry) wait a uniformly random time in [0, min(cap, base * 2^attempt)].
// Pure: the randomness is injected (a seeded std::mt19937_64 in tests, a random_device-seeded one
// in the engine), so delays are reproducible. Never overflows for any attempt number.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace xfer::engine {

struct BackoffConfig {
  std::chrono::milliseconds base{500};
  std::chrono::milliseconds cap{60'000};
};

class Backoff {
 public:
  Backoff() = default;
  explicit Backoff(BackoffConfig config);

  const BackoffConfig& config() const { return config_; }

  // min(cap, base * 2^attempt): the upper bound of the jittered delay.
  std::chrono::milliseconds ceiling(std::uint32_t attempt) const;
  // Uniform in [0, ceiling(attempt)] chosen by `random` (any 64-bit value).
  std::chrono::milliseconds delay_from(std::uint32_t attempt, std::uint64_t random) const;
  // Draws from `rng`.
  std::chrono::milliseconds delay(std::uint32_t attempt, std::mt19937_64& rng) const;

 private:
  BackoffConfig config_;
};

}  // namespace xfer::engine
