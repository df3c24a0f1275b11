#include <catch2/catch.hpp>

#include "protocols/http/retry_after.h"

using namespace std::chrono_literals;
using xfer::protocols::format_http_date;
using xfer::protocols::parse_http_date;
using xfer::protocols::parse_retry_after;

namespace {
constexpr std::int64_t k1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr std::int64_t kNowMs = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
}  // namespace

TEST_CASE("HTTP-date: the three formats of RFC 9110 give the same instant", "[retry_after]") {
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == k1994);
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == k1994);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == k1994);
  CHECK(parse_http_date("Sun Nov 16 08:49:37 1994") == k1994 + 10 * 86400);
  CHECK(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT") == 0);
  CHECK(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT ") == k1994);
}

TEST_CASE("HTTP-date: format round-trips and matches IMF-fixdate", "[retry_after]") {
  CHECK(format_http_date(k1994) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  for (std::int64_t t = 0; t < 4'000'000'000; t += 37'123'457) {
    INFO(t);
    CHECK(parse_http_date(format_http_date(t)) == t);
  }
  CHECK(parse_http_date("Mon, 29 Feb 2044 12:00:00 GMT").has_value());
}

TEST_CASE("HTTP-date: RFC 850 two-digit years are resolved against now", "[retry_after]") {
  // From 2026, "76" is 50 years ahead (kept), "77" is more (previous century).
  const std::int64_t now_s = kNowMs / 1000;
  const auto y76 = parse_http_date("Sunday, 01-Mar-76 00:00:00 GMT", now_s);
  const auto y77 = parse_http_date("Monday, 01-Mar-77 00:00:00 GMT", now_s);
  REQUIRE(y76);
  REQUIRE(y77);
  CHECK(format_http_date(*y76).ends_with("2076 00:00:00 GMT"));
  CHECK(format_http_date(*y77).ends_with("1977 00:00:00 GMT"));
  const auto y26 = parse_http_date("Thursday, 01-Jan-26 00:00:00 GMT", now_s);
  CHECK(y26 == now_s);
}

// Found by tests/fuzz/retry_after: the leap second at the very end of year 9999 parsed to the
// first instant of year 10000, which format_http_date writes with five digits (and cannot read).
TEST_CASE("HTTP-date: every accepted date can be written back", "[retry_after]") {
  CHECK(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT") == 253'402'300'799);
  CHECK(format_http_date(253'402'300'799) == "Fri, 31 Dec 9999 23:59:59 GMT");
  CHECK_FALSE(parse_http_date("Fri, 31 Dec 9999 23:59:60 GMT").has_value());
  CHECK_FALSE(parse_http_date("Fri Dec 31 23:59:60 9999").has_value());
  CHECK(parse_http_date("Thu, 30 Dec 9999 23:59:60 GMT") == 253'402'300'799 - 86'400 + 1);
}

TEST_CASE("HTTP-date: garbage and near misses are rejected", "[retry_after]") {
  for (const char* bad : {
           "", "now", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 GMT x",
           "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT",
           "Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 29 Feb 1995 08:49:37 GMT",
           "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
           "Sun, 06 Nov 1994 08:49:61 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
           "Sun,06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
           "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun, 06-Nov-94 08:49:37 GMT",
           "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94", "Sun Nov  6 8:49:37 1994",
           "Sun, 06 Nov 1994 08:49:37 GMT\r\n", "Sun, 06 Nov 1994 08:49:3a GMT",
           "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 06 Nov +994 08:49:37 GMT"}) {
    INFO(bad);
    CHECK_FALSE(parse_http_date(bad).has_value());
  }
}

TEST_CASE("Retry-After: delta-seconds", "[retry_after]") {
  CHECK(parse_retry_after("0", kNowMs) == 0ms);
  CHECK(parse_retry_after("120", kNowMs) == 120'000ms);
  CHECK(parse_retry_after(" 5 ", kNowMs) == 5'000ms);
  CHECK(parse_retry_after("007", kNowMs) == 7'000ms);
}

TEST_CASE("Retry-After: absurd delays are clamped, not rejected", "[retry_after]") {
  CHECK(parse_retry_after("86400", kNowMs) == xfer::protocols::kMaxRetryAfter);
  CHECK(parse_retry_after("99999999999999999999999999999999", kNowMs) ==
        xfer::protocols::kMaxRetryAfter);
  CHECK(parse_retry_after("600", kNowMs, 60s) == 60s);
  CHECK(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", kNowMs) == xfer::protocols::kMaxRetryAfter);
}

// Found by tests/fuzz/retry_after: with a max_delay near milliseconds::max(), a delta one past
// max_delay / 1000 was multiplied by 1000 anyway (signed overflow).
TEST_CASE("Retry-After: no overflow when the ceiling is near the largest duration", "[retry_after]") {
  constexpr auto kMax = std::chrono::milliseconds::max();
  CHECK(parse_retry_after("9223372036854776", kNowMs, kMax) == kMax);
  CHECK(parse_retry_after("9223372036854775", kNowMs, kMax) == 9'223'372'036'854'775'000ms);
  CHECK(parse_retry_after("99999999999999999999", kNowMs, kMax) == kMax);
  CHECK(parse_retry_after("2", kNowMs, 1500ms) == 1500ms);
  CHECK(parse_retry_after("1", kNowMs, 1500ms) == 1000ms);
  CHECK(parse_retry_after("0", kNowMs, 0ms) == 0ms);
}

TEST_CASE("Retry-After: HTTP-date is measured from the wall clock", "[retry_after]") {
  const std::string in_90s = format_http_date(kNowMs / 1000 + 90);
  CHECK(parse_retry_after(in_90s, kNowMs) == 90'000ms);
  CHECK(parse_retry_after(in_90s, kNowMs + 500) == 89'500ms);
  // A date in the past (or a server clock behind ours) means "now".
  CHECK(parse_retry_after(format_http_date(kNowMs / 1000 - 3600), kNowMs) == 0ms);
  CHECK(parse_retry_after("Sun Nov  6 08:49:37 1994", kNowMs) == 0ms);
  CHECK(parse_retry_after("Thursday, 01-Jan-26 00:00:30 GMT", kNowMs) == 30s);
}

TEST_CASE("Retry-After: garbage is rejected", "[retry_after]") {
  for (const char* bad : {"", " ", "-1", "1.5", "+5", "5s", "0x10", "1 2", "soon",
                          "Sun, 06 Nov 1994", "１２"}) {
    INFO(bad);
    CHECK_FALSE(parse_retry_after(bad, kNowMs).has_value());
  }
}
