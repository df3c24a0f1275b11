#include "transfer/engine/retry_policy.h"

#include <algorithm>

#include <fmt/format.h>

namespace xfer::engine {

bool is_retryable_status(int http_status) {
  switch (http_status) {
    case 408: case 429: case 500: case 502: case 503: case 504:
      return true;
    default:
      return false;
  }
}

bool is_retryable(const Error& error) {
  switch (error.category()) {
    case ErrorCategory::Network:
      return true;
    case ErrorCategory::HttpStatus:
      return is_retryable_status(error.http_status());
    case ErrorCategory::Tls:
    case ErrorCategory::Protocol:
      return error.retryable();
    case ErrorCategory::Integrity:
    case ErrorCategory::LocalIo:
    case ErrorCategory::DiskFull:
    case ErrorCategory::Journal:
    case ErrorCategory::InvalidArgument:
    case ErrorCategory::NotFound:
    case ErrorCategory::Cancelled:
    case ErrorCategory::Internal:
      return false;
  }
  return false;
}

RetryPolicy::RetryPolicy(RetryConfig config) : config_(config), backoff_(config.backoff) {}

RetryDecision RetryPolicy::decide(const FailedAttempt& attempt, std::mt19937_64& rng) const {
  return decide_with(attempt, rng());
}

RetryDecision RetryPolicy::decide_with(const FailedAttempt& attempt, std::uint64_t random) const {
  RetryDecision d;
  if (attempt.error == nullptr) {
    d.reason = "no error given";
    return d;
  }
  const Error& error = *attempt.error;
  if (!is_retryable(error)) {
    d.reason = fmt::format("not retryable: {}", error.describe());
    return d;
  }
  if (attempt.attempts_made >= config_.max_attempts) {
    d.reason = fmt::format("gave up after {} attempts: {}", attempt.attempts_made, error.describe());
    return d;
  }
  // attempts_made >= 1, so the first retry uses attempt index 0 (the base delay).
  const std::uint32_t index = attempt.attempts_made == 0 ? 0 : attempt.attempts_made - 1;
  auto delay = backoff_.delay_from(index, random);
  bool from_server = false;
  if (attempt.retry_after) {
    const auto asked = std::clamp(*attempt.retry_after, std::chrono::milliseconds(0),
                                  config_.max_retry_after);
    if (asked >= delay) {
      delay = asked;
      from_server = true;
    }
  }
  if (attempt.elapsed + delay > config_.max_elapsed) {
    d.reason = fmt::format("retry budget of {} s exhausted: {}",
                           std::chrono::duration_cast<std::chrono::seconds>(config_.max_elapsed).count(),
                           error.describe());
    return d;
  }
  d.retry = true;
  d.delay = delay;
  d.reason = fmt::format("attempt {} of {} in {} ms ({}): {}", attempt.attempts_made + 1,
                         config_.max_attempts, delay.count(),
                         from_server ? "Retry-After" : "backoff", error.describe());
  return d;
}

}  // namespace xfer::engine
