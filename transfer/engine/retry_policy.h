// RetryPolicy: pure decision "try again, and when?" after a failed attempt.
// Classification: Network errors (connect, reset, timeout, DNS) are retryable; TLS errors are
// retryable only when the transport marked them so (handshake interrupted) and final otherwise
// (certificate verification); HTTP 408, 429, 500, 502, 503, 504 are retryable and every other
// status is final; Protocol errors are retryable only when marked retryable; local I/O, disk
// full, integrity, cancelled, invalid argument, journal and internal errors are final.
// Delay: exponential backoff with full jitter; a Retry-After from the server is a floor (we never
// come back earlier than asked). Budget: `max_attempts` counts every try including the first
// (so `--retry N` is max_attempts N + 1), `max_elapsed` bounds the time since the first try (a
// retry whose delay would end beyond it is refused), and `max_wait` bounds any single wait: a
// server asking for longer is given up on, never waited for (and never silently shortened,
// which would hammer a server that asked us to stay away).
// Reasons name the budget that ran out, not the error (the caller prints the error once).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include <xfer/error.h>

#include "transfer/engine/backoff.h"

namespace xfer::engine {

struct RetryConfig {
  std::uint32_t max_attempts = 8;
  std::chrono::milliseconds max_elapsed = std::chrono::minutes(30);
  BackoffConfig backoff;
  // The longest single wait; a Retry-After beyond it ends the retries.
  std::chrono::milliseconds max_wait = std::chrono::minutes(5);
};

bool is_retryable_status(int http_status);
// "750 ms", "4.0 s", "5 min", "3 h", "11 days", "31 years".
std::string human_duration(std::chrono::milliseconds d);
bool is_retryable(const Error& error);

struct RetryDecision {
  bool retry = false;
  std::chrono::milliseconds delay{0};
  // Why not ("gave up after 3 attempts"; empty when the error is not retryable) or what the
  // delay is based on ("backoff", "Retry-After").
  std::string reason;
};

struct FailedAttempt {
  const Error* error = nullptr;     // required
  std::uint32_t attempts_made = 1;  // tries so far, including this failed one
  std::chrono::milliseconds elapsed{0};                // since the first try started
  std::optional<std::chrono::milliseconds> retry_after;  // parsed Retry-After, if any
};

class RetryPolicy {
 public:
  RetryPolicy() = default;
  explicit RetryPolicy(RetryConfig config);

  const RetryConfig& config() const { return config_; }

  RetryDecision decide(const FailedAttempt& attempt, std::mt19937_64& rng) const;
  // The same with the jitter's random draw given (for exact tests).
  RetryDecision decide_with(const FailedAttempt& attempt, std::uint64_t random) const;

 private:
  RetryConfig config_;
  Backoff backoff_{config_.backoff};
};

}  // namespace xfer::engine
