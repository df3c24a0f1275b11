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
      // The status's rule, or whoever built the error knew more (a 409 while the server is
      // still busy with an earlier request passes).
      return error.retryable() || is_retryable_status(error.http_status());
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

std::string human_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 120'000) return fmt::format("{:.1f} s", ms / 1000.0);
  if (ms < 7'200'000) return fmt::format("{} min", ms / 60'000);
  if (ms < 172'800'000) return fmt::format("{} h", ms / 3'600'000);
  if (ms < 63'072'000'000) return fmt::format("{} days", ms / 86'400'000);
  return fmt::format("{} years", ms / 31'536'000'000);
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
  if (!is_retryable(error)) return d;
  if (attempt.attempts_made >= config_.max_attempts) {
    d.reason = attempt.attempts_made == 1 ? std::string("no retries allowed")
                                          : fmt::format("gave up after {} attempts",
                                                        attempt.attempts_made);
    return d;
  }
  // attempts_made >= 1, so the first retry uses attempt index 0 (the base delay).
  const std::uint32_t index = attempt.attempts_made == 0 ? 0 : attempt.attempts_made - 1;
  auto delay = backoff_.delay_from(index, random);
  bool from_server = false;
  if (attempt.retry_after) {
    const auto asked = std::max(*attempt.retry_after, std::chrono::milliseconds(0));
    if (asked > config_.max_wait) {
      d.reason = fmt::format("the server asked to wait {} (Retry-After), longer than the limit "
                             "of {}", human_duration(asked), human_duration(config_.max_wait));
      return d;
    }
    if (asked >= delay) {
      delay = asked;
      from_server = true;
    }
  }
  delay = std::min(delay, config_.max_wait);
  if (attempt.elapsed + delay > config_.max_elapsed) {
    d.reason = fmt::format("retry time limit of {} reached after {} attempts",
                           human_duration(config_.max_elapsed), attempt.attempts_made);
    return d;
  }
  d.retry = true;
  d.delay = delay;
  d.reason = fmt::format("attempt {} of {} in {} ({})", attempt.attempts_made + 1,
                         config_.max_attempts, human_duration(delay),
                         from_server ? "Retry-After" : "backoff");
  return d;
}

}  // namespace xfer::engine
