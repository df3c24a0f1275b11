#include "transfer/engine/backoff.h"

#include <algorithm>

namespace xfer::engine {

Backoff::Backoff(BackoffConfig config) : config_(config) {
  if (config_.base.count() < 0) config_.base = std::chrono::milliseconds(0);
  if (config_.cap < config_.base) config_.cap = config_.base;
}

std::chrono::milliseconds Backoff::ceiling(std::uint32_t attempt) const {
  const std::int64_t base = config_.base.count();
  const std::int64_t cap = config_.cap.count();
  if (base == 0) return std::chrono::milliseconds(0);
  // Doubling stops as soon as the cap is reached, so no shift can overflow.
  std::int64_t value = base;
  for (std::uint32_t i = 0; i < attempt && value < cap; ++i) value *= 2;
  return std::chrono::milliseconds(std::min(value, cap));
}

std::chrono::milliseconds Backoff::delay_from(std::uint32_t attempt, std::uint64_t random) const {
  const auto top = static_cast<std::uint64_t>(ceiling(attempt).count());
  // Uniform in [0, top]: the modulo bias is below 2^-40 for any top that fits in milliseconds.
  return std::chrono::milliseconds(static_cast<std::int64_t>(random % (top + 1)));
}

std::chrono::milliseconds Backoff::delay(std::uint32_t attempt, std::mt19937_64& rng) const {
  return delay_from(attempt, rng());
}

}  // namespace xfer::engine
