// Fuzz target: HTTP-date and Retry-After (protocols/http/retry_after). Input: a header value;
// optionally preceded by a control line "<now-unix-ms> <max-delay-ms>" and '\n' (defaults:
// 2026-01-01T00:00:00Z and kMaxRetryAfter). "now" is taken modulo 2^45 ms (a wall clock up to
// the year 3084); max-delay may be anything non-negative. Checks:
//  - an accepted HTTP-date re-formats to an IMF-fixdate that parses back to the same instant,
//    with and without a "now" for two-digit years;
//  - Retry-After is within [0, max-delay]; delta-seconds mean exactly that many seconds
//    (clamped); a date means "that instant minus now" (clamped, zero when past).
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocols/http/retry_after.h"
#include "tests/fuzz/fuzz_support.h"

using namespace xfer::protocols;
using std::chrono::milliseconds;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view value = xfer_fuzz::as_text(data, size);
  std::int64_t now_ms = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  milliseconds max_delay = kMaxRetryAfter;
  if (const auto nl = value.find('\n'); nl != std::string_view::npos) {
    const auto control = xfer_fuzz::words(value.substr(0, nl));
    value.remove_prefix(nl + 1);
    if (!control.empty()) {
      if (const auto n = xfer_fuzz::number(control[0])) now_ms = static_cast<std::int64_t>(*n % (1ull << 45));
    }
    if (control.size() > 1) {
      if (const auto n = xfer_fuzz::number(control[1])) {
        max_delay = milliseconds(static_cast<std::int64_t>(std::min<std::uint64_t>(*n, INT64_MAX)));
      }
    }
  }

  const auto date = parse_http_date(value);
  if (date) {
    const std::string formatted = format_http_date(*date);
    FUZZ_CHECK(parse_http_date(formatted) == date);
    FUZZ_CHECK(parse_http_date(formatted, now_ms / 1000) == date);  // IMF-fixdate has 4-digit years
  }
  const auto date_now = parse_http_date(value, now_ms / 1000);
  if (date_now) FUZZ_CHECK(parse_http_date(format_http_date(*date_now)) == date_now);

  const auto delay = parse_retry_after(value, now_ms, max_delay);
  if (delay) {
    FUZZ_CHECK(delay->count() >= 0);
    FUZZ_CHECK(*delay <= max_delay);
    // The same answer, worked out independently.
    std::string_view v = value;
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (!v.empty() && v.front() >= '0' && v.front() <= '9') {
      const auto seconds = xfer_fuzz::number(v);  // saturating
      FUZZ_CHECK(seconds.has_value());
      const std::uint64_t limit_s = static_cast<std::uint64_t>(max_delay.count()) / 1000;
      const auto expected = *seconds > limit_s ? max_delay : std::min(max_delay, milliseconds(*seconds * 1000));
      FUZZ_CHECK(*delay == expected);
    } else {
      FUZZ_CHECK(date_now.has_value());
      const std::int64_t target = *date_now * 1000;
      const auto expected = target <= now_ms ? milliseconds(0) : std::min(max_delay, milliseconds(target - now_ms));
      FUZZ_CHECK(*delay == expected);
    }
  }
  return 0;
}
