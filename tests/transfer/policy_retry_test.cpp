#include <catch2/catch.hpp>

#include <random>

#include "transfer/engine/retry_policy.h"

using namespace std::chrono_literals;
using namespace xfer::engine;
using xfer::Error;
using xfer::ErrorCategory;

namespace {

Error http(int status) { return Error(ErrorCategory::HttpStatus, "status", false, status); }

RetryPolicy policy() {
  RetryConfig c;
  c.max_attempts = 5;
  c.max_elapsed = 10min;
  c.backoff = BackoffConfig{100ms, 10'000ms};
  c.max_wait = 120s;
  return RetryPolicy(c);
}

}  // namespace

TEST_CASE("classification of HTTP statuses", "[policy][retry]") {
  for (const int s : {408, 429, 500, 502, 503, 504}) {
    INFO(s);
    CHECK(is_retryable_status(s));
    CHECK(is_retryable(http(s)));
  }
  for (const int s : {400, 401, 403, 404, 405, 409, 410, 411, 412, 413, 414, 415, 416, 418, 451,
                      501, 505, 0, 200, 304}) {
    INFO(s);
    CHECK_FALSE(is_retryable_status(s));
  }
}

TEST_CASE("classification of error categories", "[policy][retry]") {
  CHECK(is_retryable(Error(ErrorCategory::Network, "connection reset")));
  CHECK(is_retryable(Error(ErrorCategory::Network, "timeout", false)));
  CHECK(is_retryable(Error(ErrorCategory::Tls, "handshake interrupted", true)));
  CHECK_FALSE(is_retryable(Error(ErrorCategory::Tls, "certificate verify failed", false)));
  CHECK(is_retryable(Error(ErrorCategory::Protocol, "short body", true)));
  CHECK_FALSE(is_retryable(Error(ErrorCategory::Protocol, "bad Content-Range", false)));
  for (const auto c : {ErrorCategory::Integrity, ErrorCategory::LocalIo, ErrorCategory::DiskFull,
                       ErrorCategory::Journal, ErrorCategory::InvalidArgument, ErrorCategory::NotFound,
                       ErrorCategory::Cancelled, ErrorCategory::Internal}) {
    INFO(xfer::to_string(c));
    CHECK_FALSE(is_retryable(Error(c, "x", true)));  // even when (wrongly) marked retryable
  }
}

TEST_CASE("retryable failures back off with jitter inside the ceiling", "[policy][retry]") {
  const auto p = policy();
  const Error reset(ErrorCategory::Network, "reset");
  std::mt19937_64 rng(99);
  for (std::uint32_t attempts = 1; attempts < 5; ++attempts) {
    const auto d = p.decide(FailedAttempt{&reset, attempts, 0ms, {}}, rng);
    INFO(d.reason);
    CHECK(d.retry);
    CHECK(d.delay <= Backoff(BackoffConfig{100ms, 10'000ms}).ceiling(attempts - 1));
  }
  const auto exact = p.decide_with(FailedAttempt{&reset, 3, 0ms, {}}, 123);
  CHECK(exact.delay == 123ms);  // ceiling(2) = 400 ms, 123 % 401
}

TEST_CASE("final errors are not retried", "[policy][retry]") {
  const auto p = policy();
  const Error not_found = http(404);
  const auto d = p.decide_with(FailedAttempt{&not_found, 1, 0ms, {}}, 0);
  CHECK_FALSE(d.retry);
  CHECK(d.reason.empty());  // the error says it all; no second copy of it
  CHECK_FALSE(p.decide_with(FailedAttempt{nullptr, 1, 0ms, {}}, 0).retry);
}

TEST_CASE("max attempts counts every try", "[policy][retry]") {
  const auto p = policy();
  const Error e = http(503);
  CHECK(p.decide_with(FailedAttempt{&e, 4, 0ms, {}}, 0).retry);
  const auto d = p.decide_with(FailedAttempt{&e, 5, 0ms, {}}, 0);
  CHECK_FALSE(d.retry);
  CHECK(d.reason.find("5 attempts") != std::string::npos);
}

TEST_CASE("max elapsed time bounds the whole retry sequence", "[policy][retry]") {
  const auto p = policy();
  const Error e = http(502);
  CHECK(p.decide_with(FailedAttempt{&e, 2, 9min, {}}, 50).retry);
  CHECK_FALSE(p.decide_with(FailedAttempt{&e, 2, 10min, {}}, 50).retry);
  // A Retry-After that would end past the budget ends the sequence now.
  const auto d = p.decide_with(FailedAttempt{&e, 2, 9min + 30s, 60s}, 0);
  CHECK_FALSE(d.retry);
  CHECK(d.reason.find("time limit") != std::string::npos);
  CHECK(d.reason.find("502") == std::string::npos);  // the reason never repeats the error
}

TEST_CASE("Retry-After is a floor - a longer one than max_wait ends the retries", "[policy][retry]") {
  const auto p = policy();
  const Error e = http(429);
  auto d = p.decide_with(FailedAttempt{&e, 1, 0ms, 7s}, 50);
  CHECK(d.retry);
  CHECK(d.delay == 7s);
  CHECK(d.reason.find("Retry-After") != std::string::npos);
  // A shorter Retry-After than the backoff keeps the backoff.
  d = p.decide_with(FailedAttempt{&e, 4, 0ms, 1ms}, 700);
  CHECK(d.delay == 700ms);
  // Waits beyond max_wait are refused, not shortened (that would hammer the server); a server
  // asking for exactly the limit is obeyed; negative values count as zero.
  d = p.decide_with(FailedAttempt{&e, 1, 0ms, 24h}, 0);
  CHECK_FALSE(d.retry);
  CHECK(d.reason.find("Retry-After") != std::string::npos);
  CHECK(d.reason.find("24 h") != std::string::npos);
  d = p.decide_with(FailedAttempt{&e, 1, 0ms, std::chrono::hours(24 * 365 * 31)}, 0);
  CHECK_FALSE(d.retry);
  CHECK(d.reason.find("years") != std::string::npos);
  d = p.decide_with(FailedAttempt{&e, 1, 0ms, 120s}, 0);
  CHECK(d.retry);
  CHECK(d.delay == 120s);
  d = p.decide_with(FailedAttempt{&e, 1, 0ms, -5s}, 20);
  CHECK(d.delay == 20ms);
}
