// HTTP-date and Retry-After (RFC 9110 §5.6.7, §10.2.3), pure functions.
// parse_http_date accepts the three formats a recipient must accept: IMF-fixdate
// ("Sun, 06 Nov 1994 08:49:37 GMT"), obsolete RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT", two-
// digit years resolved per RFC 9110: more than 50 years ahead of "now" means the previous
// century; without a "now" the reference year is 2026) and asctime
// ("Sun Nov  6 08:49:37 1994"). It is strict: wrong weekday names, out-of-range fields, trailing
// garbage or a non-GMT zone are rejected (nullopt), never guessed at.
// parse_retry_after turns a Retry-After value into a delay from "now" (wall clock, unix ms):
// delta-seconds or an HTTP-date; a date in the past gives zero; anything above `max_delay` is
// clamped to it (a server saying "come back in 10 years" must not park a transfer forever).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xfer::protocols {

// Longest Retry-After honoured by default; larger values are clamped to this.
inline constexpr std::chrono::milliseconds kMaxRetryAfter = std::chrono::hours(1);

// Seconds since the Unix epoch, or nullopt for anything that is not a valid HTTP-date.
std::optional<std::int64_t> parse_http_date(std::string_view text,
                                            std::optional<std::int64_t> now_unix_seconds = {});

// IMF-fixdate for seconds since the epoch ("Thu, 01 Jan 1970 00:00:00 GMT").
std::string format_http_date(std::int64_t unix_seconds);

// The delay the server asks for, measured from `now_unix_millis`; nullopt for garbage.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::int64_t now_unix_millis,
    std::chrono::milliseconds max_delay = kMaxRetryAfter);

}  // namespace xfer::protocols
