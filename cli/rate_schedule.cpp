#include "cli/rate_schedule.h"

#include <algorithm>
#include <array>
#include <sstream>

#include <fmt/format.h>

#include "cli/options.h"

namespace xfer::cli {
namespace {

constexpr std::int64_t kDay = 24 * 3600;
constexpr std::int64_t kWeek = 7 * kDay;
constexpr std::array<const char*, 7> kDays{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

Result<std::uint64_t> rate_or_off(const std::string& text) {
  if (text == "off" || text == "0") return 0;
  return parse_rate(text);
}

// "HH:MM" → seconds into the day.
std::optional<std::int64_t> time_of_day(const std::string& text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (const std::size_t i : {0u, 1u, 3u, 4u})
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (hours > 23 || minutes > 59) return std::nullopt;
  return hours * 3600 + minutes * 60;
}

std::optional<std::int64_t> day_of_week(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  for (std::size_t i = 0; i < kDays.size(); ++i)
    if (text == kDays[i]) return static_cast<std::int64_t>(i) * kDay;
  return std::nullopt;
}

}  // namespace

RateSchedule RateSchedule::constant(std::uint64_t rate) {
  RateSchedule s;
  s.entries_.push_back(Entry{0, rate});
  s.text_ = rate == 0 ? "off" : std::to_string(rate);
  return s;
}

Result<RateSchedule> RateSchedule::parse(const std::string& text) {
  if (text.find(',') == std::string::npos) {
    auto rate = rate_or_off(text);
    if (!rate) return std::unexpected(rate.error());
    auto s = constant(*rate);
    s.text_ = text;
    return s;
  }
  RateSchedule s;
  s.text_ = text;
  std::istringstream words(text);
  std::string word;
  std::optional<bool> weekly;
  while (words >> word) {
    const auto comma = word.find(',');
    const auto bad = [&](const std::string& why) {
      return fail(ErrorCategory::InvalidArgument,
                  fmt::format("bad schedule entry '{}': {} (entries are HH:MM,RATE or Day-HH:MM,RATE, "
                              "e.g. \"08:00,1M 18:00,off\")", word, why));
    };
    if (comma == std::string::npos) return bad("no comma between the time and the rate");
    std::string when = word.substr(0, comma);
    std::int64_t start = 0;
    const auto dash = when.find('-');
    const bool has_day = dash != std::string::npos;
    if (weekly && *weekly != has_day) return bad("entries must all name a day or none may");
    weekly = has_day;
    if (has_day) {
      const auto day = day_of_week(when.substr(0, dash));
      if (!day) return bad("the day is one of Mon, Tue, Wed, Thu, Fri, Sat, Sun");
      start = *day;
      when = when.substr(dash + 1);
    }
    const auto t = time_of_day(when);
    if (!t) return bad("the time is HH:MM, 00:00 to 23:59");
    start += *t;
    auto rate = rate_or_off(word.substr(comma + 1));
    if (!rate) return bad(rate.error().message());
    for (const auto& e : s.entries_)
      if (e.start == start) return bad("another entry has the same time");
    s.entries_.push_back(Entry{start, *rate});
  }
  if (s.entries_.empty()) return fail(ErrorCategory::InvalidArgument, "empty rate schedule");
  s.weekly_ = weekly.value_or(false);
  std::sort(s.entries_.begin(), s.entries_.end(), [](const Entry& a, const Entry& b) { return a.start < b.start; });
  return s;
}

RateSchedule::Now RateSchedule::at(const std::tm& local) const {
  if (entries_.size() == 1) return Now{entries_[0].rate, std::nullopt};
  const std::int64_t period = weekly_ ? kWeek : kDay;
  // tm_wday counts from Sunday; the week here starts on Monday.
  const std::int64_t day = weekly_ ? ((local.tm_wday + 6) % 7) * kDay : 0;
  // tm_sec may be 60 (a leap second): clamp into the minute.
  const std::int64_t into = day + local.tm_hour * 3600 + local.tm_min * 60 + std::min(local.tm_sec, 59);
  // The last entry that started at or before `into`; before the first, the period's last.
  auto next = std::upper_bound(entries_.begin(), entries_.end(), into,
                               [](std::int64_t t, const Entry& e) { return t < e.start; });
  const Entry& current = next == entries_.begin() ? entries_.back() : *(next - 1);
  const std::int64_t next_start = next == entries_.end() ? entries_.front().start + period : next->start;
  return Now{current.rate, std::chrono::seconds(next_start - into)};
}

RateSchedule::Now RateSchedule::now() const {
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  localtime_r(&t, &local);
  return at(local);
}

}  // namespace xfer::cli
