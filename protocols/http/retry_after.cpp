#include "protocols/http/retry_after.h"

#include <array>
#include <chrono>
#include <limits>

#include <fmt/format.h>

namespace xfer::protocols {
namespace {

constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                       "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::int64_t kDefaultReferenceYear = 2026;
constexpr std::int64_t kLastHttpDate = 253'402'300'799;  // Fri, 31 Dec 9999 23:59:59 GMT

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Consumes exactly `n` digits.
bool take_digits(std::string_view& s, std::size_t n, int& out) {
  if (s.size() < n) return false;
  int value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_digit(s[i])) return false;
    value = value * 10 + (s[i] - '0');
  }
  s.remove_prefix(n);
  out = value;
  return true;
}

bool take(std::string_view& s, std::string_view literal) {
  if (!s.starts_with(literal)) return false;
  s.remove_prefix(literal.size());
  return true;
}

template <std::size_t N>
bool take_name(std::string_view& s, const std::array<std::string_view, N>& names, int& index) {
  for (std::size_t i = 0; i < N; ++i) {
    if (s.starts_with(names[i])) {
      s.remove_prefix(names[i].size());
      index = static_cast<int>(i);
      return true;
    }
  }
  return false;
}

// "HH:MM:SS"
bool take_time(std::string_view& s, int& h, int& m, int& sec) {
  return take_digits(s, 2, h) && take(s, ":") && take_digits(s, 2, m) && take(s, ":") &&
         take_digits(s, 2, sec);
}

std::optional<std::int64_t> to_unix(int year, int month0, int day, int h, int m, int s) {
  if (h > 23 || m > 59 || s > 60) return std::nullopt;  // 60: leap second, allowed by RFC 5322
  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(month0 + 1)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  const auto days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  const std::int64_t t = static_cast<std::int64_t>(days) * 86400 + h * 3600 + m * 60 + s;
  // A leap second on 9999-12-31 is the first instant of year 10000, which no HTTP-date can
  // name (format_http_date could not write it back): not a date.
  if (t > kLastHttpDate) return std::nullopt;
  return t;
}

std::int64_t year_of(std::int64_t unix_seconds) {
  const std::chrono::sys_days day{std::chrono::days{unix_seconds / 86400}};
  return static_cast<int>(std::chrono::year_month_day{day}.year());
}

std::optional<std::int64_t> imf_fixdate(std::string_view s) {
  // Sun, 06 Nov 1994 08:49:37 GMT
  int wd = 0, day = 0, mon = 0, year = 0, h = 0, m = 0, sec = 0;
  if (!take_name(s, kDays, wd) || !take(s, ", ") || !take_digits(s, 2, day) || !take(s, " ") ||
      !take_name(s, kMonths, mon) || !take(s, " ") || !take_digits(s, 4, year) || !take(s, " ") ||
      !take_time(s, h, m, sec) || !take(s, " GMT") || !s.empty()) {
    return std::nullopt;
  }
  return to_unix(year, mon, day, h, m, sec);
}

std::optional<std::int64_t> rfc850_date(std::string_view s, std::int64_t reference_year) {
  // Sunday, 06-Nov-94 08:49:37 GMT
  int wd = 0, day = 0, mon = 0, yy = 0, h = 0, m = 0, sec = 0;
  if (!take_name(s, kLongDays, wd) || !take(s, ", ") || !take_digits(s, 2, day) || !take(s, "-") ||
      !take_name(s, kMonths, mon) || !take(s, "-") || !take_digits(s, 2, yy) || !take(s, " ") ||
      !take_time(s, h, m, sec) || !take(s, " GMT") || !s.empty()) {
    return std::nullopt;
  }
  // RFC 9110 §5.6.7: a year that appears more than 50 years in the future is the most recent
  // past year with the same last two digits.
  std::int64_t year = reference_year - reference_year % 100 + yy;
  if (year > reference_year + 50) year -= 100;
  return to_unix(static_cast<int>(year), mon, day, h, m, sec);
}

std::optional<std::int64_t> asctime_date(std::string_view s) {
  // Sun Nov  6 08:49:37 1994
  int wd = 0, day = 0, mon = 0, year = 0, h = 0, m = 0, sec = 0;
  if (!take_name(s, kDays, wd) || !take(s, " ") || !take_name(s, kMonths, mon) || !take(s, " ")) {
    return std::nullopt;
  }
  if (take(s, " ")) {
    if (!take_digits(s, 1, day)) return std::nullopt;
  } else if (!take_digits(s, 2, day)) {
    return std::nullopt;
  }
  if (!take(s, " ") || !take_time(s, h, m, sec) || !take(s, " ") || !take_digits(s, 4, year) ||
      !s.empty()) {
    return std::nullopt;
  }
  return to_unix(year, mon, day, h, m, sec);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::int64_t> parse_http_date(std::string_view text,
                                            std::optional<std::int64_t> now_unix_seconds) {
  text = trim(text);
  if (text.size() < 24 || text.size() > 40) return std::nullopt;
  if (text[3] == ',') return imf_fixdate(text);
  if (text[3] == ' ') return asctime_date(text);
  const std::int64_t reference_year =
      now_unix_seconds ? year_of(*now_unix_seconds) : kDefaultReferenceYear;
  return rfc850_date(text, reference_year);
}

std::string format_http_date(std::int64_t unix_seconds) {
  std::int64_t days = unix_seconds / 86400;
  std::int64_t rem = unix_seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const std::chrono::sys_days day{std::chrono::days{days}};
  const std::chrono::year_month_day ymd{day};
  const std::chrono::weekday wd{day};
  // weekday: 0 = Sunday; kDays starts on Monday.
  const auto wd_index = (wd.c_encoding() + 6) % 7;
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[wd_index],
                     static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                     static_cast<int>(ymd.year()), rem / 3600, rem % 3600 / 60, rem % 60);
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::int64_t now_unix_millis,
                                                           std::chrono::milliseconds max_delay) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (is_digit(value.front())) {
    // delta-seconds = 1*DIGIT; huge values are still valid, they just saturate. Accumulation
    // stops once past max_seconds, and only up to max_seconds is multiplied out, so nothing
    // overflows even when max_delay is near milliseconds::max().
    std::int64_t seconds = 0;
    const std::int64_t max_seconds = max_delay.count() / 1000;
    for (const char c : value) {
      if (!is_digit(c)) return std::nullopt;
      if (seconds <= max_seconds) seconds = seconds * 10 + (c - '0');
    }
    if (seconds > max_seconds) return max_delay;
    return std::min(std::chrono::milliseconds(seconds * 1000), max_delay);
  }
  const auto date = parse_http_date(value, now_unix_millis / 1000);
  if (!date) return std::nullopt;
  const std::int64_t target_ms = *date * 1000;
  if (target_ms <= now_unix_millis) return std::chrono::milliseconds(0);
  return std::min(std::chrono::milliseconds(target_ms - now_unix_millis), max_delay);
}

}  // namespace xfer::protocols
