#include "transfer/engine/rate_limiter.h"

#include <algorithm>

namespace xfer::engine {
namespace {

constexpr NanoTokens kNano = 1'000'000'000;

}  // namespace

TokenBucket::TokenBucket(std::uint64_t rate_bytes_per_sec, std::uint64_t burst_bytes, SteadyTime now) {
  set_rate(rate_bytes_per_sec, burst_bytes, now);
}

void TokenBucket::set_rate(std::uint64_t rate_bytes_per_sec, std::uint64_t burst_bytes, SteadyTime now) {
  refill(now);
  const bool was_unlimited = rate_ == 0;
  rate_ = rate_bytes_per_sec;
  burst_ = burst_bytes == 0 ? rate_ : burst_bytes;
  if (burst_ == 0) burst_ = 1;
  const NanoTokens full = static_cast<NanoTokens>(burst_) * kNano;
  // Leaving "unlimited" starts with a full bucket; otherwise earned tokens (or debt) carry over.
  nano_tokens_ = was_unlimited ? full : std::min(nano_tokens_, full);
  last_ = now;
}

void TokenBucket::refill(SteadyTime now) {
  if (now <= last_) return;  // time never runs backwards for us; a stale "now" earns nothing
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_).count();
  last_ = now;
  if (rate_ == 0) return;
  // elapsed (ns) * rate (tokens/s) = nano-tokens; exact, so no drift over hours.
  const NanoTokens cap = static_cast<NanoTokens>(burst_) * kNano;
  const NanoTokens earned = static_cast<NanoTokens>(elapsed) * static_cast<NanoTokens>(rate_);
  nano_tokens_ = std::min(cap, nano_tokens_ + earned);
}

bool TokenBucket::try_take(std::uint64_t n, SteadyTime now) {
  if (rate_ == 0) return true;
  refill(now);
  const NanoTokens want = static_cast<NanoTokens>(n) * kNano;
  const NanoTokens full = static_cast<NanoTokens>(burst_) * kNano;
  // A request larger than the burst can never be covered; let it through from a full bucket
  // (paying it back as debt) instead of starving it.
  if (nano_tokens_ >= want || (n > burst_ && nano_tokens_ >= full)) {
    nano_tokens_ -= want;
    return true;
  }
  return false;
}

void TokenBucket::charge(std::uint64_t n, SteadyTime now) {
  if (rate_ == 0) return;
  refill(now);
  nano_tokens_ -= static_cast<NanoTokens>(n) * kNano;
}

std::chrono::nanoseconds TokenBucket::time_until(std::uint64_t n, SteadyTime now) {
  if (rate_ == 0) return std::chrono::nanoseconds(0);
  refill(now);
  // Beyond the burst, the most we can ever wait for is a full bucket.
  const NanoTokens want = static_cast<NanoTokens>(std::min(n, burst_)) * kNano;
  if (nano_tokens_ >= want) return std::chrono::nanoseconds(0);
  const NanoTokens deficit = want - nano_tokens_;
  const NanoTokens rate = static_cast<NanoTokens>(rate_);
  const NanoTokens ns = (deficit + rate - 1) / rate;  // round up: never wake too early
  constexpr NanoTokens kMax = std::chrono::nanoseconds::max().count();
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::min(ns, kMax)));
}

std::uint64_t TokenBucket::available(SteadyTime now) {
  if (rate_ == 0) return UINT64_MAX;
  refill(now);
  return nano_tokens_ <= 0 ? 0 : static_cast<std::uint64_t>(nano_tokens_ / kNano);
}

std::chrono::nanoseconds longest_wait(std::initializer_list<TokenBucket*> buckets, std::uint64_t n,
                                      SteadyTime now) {
  std::chrono::nanoseconds longest{0};
  for (TokenBucket* bucket : buckets) {
    if (bucket != nullptr) longest = std::max(longest, bucket->time_until(n, now));
  }
  return longest;
}

RateLimits::RateLimits(Config config, SteadyTime now)
    : config_(config), global_(config.global_rate, burst_for(config.global_rate), now) {}

std::uint64_t RateLimits::burst_for(std::uint64_t rate) const {
  const auto burst = rate * static_cast<std::uint64_t>(config_.burst.count()) / 1000;
  return std::max<std::uint64_t>(burst, 1);
}

TokenBucket& RateLimits::origin_bucket(const std::string& origin, SteadyTime now) {
  auto it = origins_.find(origin);
  if (it == origins_.end()) {
    it = origins_
             .emplace(origin, TokenBucket(config_.per_origin_rate, burst_for(config_.per_origin_rate), now))
             .first;
  }
  return it->second;
}

TokenBucket& RateLimits::transfer_bucket(std::uint64_t transfer, SteadyTime now) {
  auto it = transfers_.find(transfer);
  if (it == transfers_.end()) {
    it = transfers_
             .emplace(transfer,
                      TokenBucket(config_.per_transfer_rate, burst_for(config_.per_transfer_rate), now))
             .first;
  }
  return it->second;
}

std::chrono::nanoseconds RateLimits::charge(const std::string& origin, std::uint64_t transfer,
                                            std::uint64_t n, SteadyTime now) {
  TokenBucket& o = origin_bucket(origin, now);
  TokenBucket& t = transfer_bucket(transfer, now);
  global_.charge(n, now);
  o.charge(n, now);
  t.charge(n, now);
  return longest_wait({&global_, &o, &t}, 0, now);
}

std::chrono::nanoseconds RateLimits::wait(const std::string& origin, std::uint64_t transfer,
                                          SteadyTime now) {
  return longest_wait({&global_, &origin_bucket(origin, now), &transfer_bucket(transfer, now)}, 0, now);
}

void RateLimits::set_global_rate(std::uint64_t rate, SteadyTime now) {
  config_.global_rate = rate;
  global_.set_rate(rate, burst_for(rate), now);
}

void RateLimits::set_default_transfer_rate(std::uint64_t rate, SteadyTime now) {
  config_.per_transfer_rate = rate;
  for (auto& [id, bucket] : transfers_) bucket.set_rate(rate, burst_for(rate), now);
}

void RateLimits::set_transfer_rate(std::uint64_t transfer, std::uint64_t rate, SteadyTime now) {
  transfer_bucket(transfer, now).set_rate(rate, burst_for(rate), now);
}

}  // namespace xfer::engine
