// Token-bucket bandwidth limits with explicit timestamps (no sleeping, no clock reads).
// TokenBucket: `rate` bytes per second refill up to `burst` bytes; rate 0 means unlimited.
// Arithmetic is exact (integer nano-tokens), so the long-run average never drifts from `rate`.
// Bytes that already arrived are charged with charge(), which may run the bucket into debt; the
// engine then pauses the stream for time_until(0) and resumes it afterwards (flow control).
// RateLimits: the global, per-origin and per-transfer buckets together; a charge goes to all
// three and the wait is the longest of them.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <unordered_map>

#include "base/clock.h"

namespace xfer::engine {

__extension__ using NanoTokens = __int128;  // tokens * 1e9; GCC/Clang extension

class TokenBucket {
 public:
  // Unlimited.
  TokenBucket() = default;
  // burst 0 means one second's worth of `rate`. Starts full.
  TokenBucket(std::uint64_t rate_bytes_per_sec, std::uint64_t burst_bytes, SteadyTime now);

  bool unlimited() const { return rate_ == 0; }
  std::uint64_t rate() const { return rate_; }
  std::uint64_t burst() const { return burst_; }
  // Changes the limits, keeping the tokens earned so far (capped at the new burst).
  void set_rate(std::uint64_t rate_bytes_per_sec, std::uint64_t burst_bytes, SteadyTime now);

  // Takes n tokens if they are all there (n larger than burst is allowed from a full bucket,
  // leaving debt, so a big chunk is not starved forever).
  bool try_take(std::uint64_t n, SteadyTime now);
  // Takes n tokens unconditionally (the bytes already arrived); may leave debt.
  void charge(std::uint64_t n, SteadyTime now);
  // How long until n tokens are available (0 when they are now); n = 0 means "out of debt".
  std::chrono::nanoseconds time_until(std::uint64_t n, SteadyTime now);
  // Whole tokens available now (0 while in debt).
  std::uint64_t available(SteadyTime now);

 private:
  void refill(SteadyTime now);

  std::uint64_t rate_ = 0;
  std::uint64_t burst_ = 0;
  NanoTokens nano_tokens_ = 0;  // negative = debt
  SteadyTime last_{};
};

// The wait until every bucket in `buckets` has n tokens: the longest single wait.
std::chrono::nanoseconds longest_wait(std::initializer_list<TokenBucket*> buckets, std::uint64_t n,
                                      SteadyTime now);

class RateLimits {
 public:
  struct Config {
    std::uint64_t global_rate = 0;      // bytes/s, 0 = unlimited
    std::uint64_t per_origin_rate = 0;  // default for every origin
    std::uint64_t per_transfer_rate = 0;  // default for every transfer
    // Burst as a duration of each bucket's rate (e.g. 100 ms of traffic).
    std::chrono::milliseconds burst{250};
  };

  RateLimits(Config config, SteadyTime now);

  // Charges n bytes that arrived for `transfer` on `origin`; returns how long the transfer
  // must now stay paused (0 = keep going).
  std::chrono::nanoseconds charge(const std::string& origin, std::uint64_t transfer,
                                  std::uint64_t n, SteadyTime now);
  // How long until `transfer` may move bytes again (0 = now).
  std::chrono::nanoseconds wait(const std::string& origin, std::uint64_t transfer, SteadyTime now);

  void set_global_rate(std::uint64_t rate, SteadyTime now);
  // The default of every transfer, those already limited included (a transfer's own rate set
  // with set_transfer_rate is replaced too: the engine sets one rate for all).
  void set_default_transfer_rate(std::uint64_t rate, SteadyTime now);
  void set_transfer_rate(std::uint64_t transfer, std::uint64_t rate, SteadyTime now);
  void forget_transfer(std::uint64_t transfer) { transfers_.erase(transfer); }
  void forget_origin(const std::string& origin) { origins_.erase(origin); }

 private:
  std::uint64_t burst_for(std::uint64_t rate) const;
  TokenBucket& origin_bucket(const std::string& origin, SteadyTime now);
  TokenBucket& transfer_bucket(std::uint64_t transfer, SteadyTime now);

  Config config_;
  TokenBucket global_;
  std::unordered_map<std::string, TokenBucket> origins_;
  std::unordered_map<std::uint64_t, TokenBucket> transfers_;
};

}  // namespace xfer::engine
