// --limit-rate schedules: parsing (every malformed form refused with a reason) and the rate in
// force at a given local time, wrap-around and the wait to the next change included.
#include <catch2/catch.hpp>

#include <ctime>

#include "cli/rate_schedule.h"

using xfer::cli::RateSchedule;

namespace {

// 2026-12-07 was a Monday: day 0 is Monday, 6 is Sunday.
std::tm local(int day_from_monday, int hour, int minute, int second = 0) {
  std::tm t{};
  t.tm_year = 2026 - 1900;
  t.tm_mon = 11;
  t.tm_mday = 7 + day_from_monday;
  t.tm_wday = (1 + day_from_monday) % 7;
  t.tm_hour = hour;
  t.tm_min = minute;
  t.tm_sec = second;
  return t;
}

}  // namespace

TEST_CASE("a single rate holds for good and off or 0 mean unlimited", "[cli][schedule]") {
  auto s = RateSchedule::parse("1M");
  REQUIRE(s);
  const auto now = s->at(local(2, 12, 0));
  CHECK(now.rate == 1024 * 1024);
  CHECK_FALSE(now.holds_for);
  for (const char* off : {"off", "0"}) {
    auto u = RateSchedule::parse(off);
    REQUIRE(u);
    CHECK(u->at(local(0, 0, 0)).rate == 0);
    CHECK(u->unlimited_always());
  }
}

TEST_CASE("a daily schedule: each entry holds until the next, the last wraps to the first", "[cli][schedule]") {
  auto s = RateSchedule::parse("18:00,off 08:00,512K 12:30,2M");  // any order
  REQUIRE(s);
  auto at = s->at(local(0, 9, 15));
  CHECK(at.rate == 512 * 1024);
  REQUIRE(at.holds_for);
  CHECK(at.holds_for->count() == (12 * 60 + 30 - (9 * 60 + 15)) * 60);
  CHECK(s->at(local(0, 12, 30)).rate == 2 * 1024 * 1024);  // at the minute itself
  CHECK(s->at(local(0, 12, 29, 59)).rate == 512 * 1024);
  CHECK(s->at(local(0, 20, 0)).rate == 0);
  // Before the day's first entry the previous day's last one holds, until 08:00.
  at = s->at(local(3, 3, 0));
  CHECK(at.rate == 0);
  REQUIRE(at.holds_for);
  CHECK(at.holds_for->count() == 5 * 3600);
  // After the last entry: until tomorrow's 08:00.
  at = s->at(local(3, 23, 0));
  CHECK(at.holds_for->count() == 9 * 3600);
}

TEST_CASE("a weekly schedule counts the week from Monday", "[cli][schedule]") {
  auto s = RateSchedule::parse("Mon-08:00,1M Fri-18:00,off sat-10:00,100K");
  REQUIRE(s);
  CHECK(s->at(local(0, 9, 0)).rate == 1024 * 1024);     // Monday
  CHECK(s->at(local(3, 9, 0)).rate == 1024 * 1024);     // Thursday
  CHECK(s->at(local(4, 19, 0)).rate == 0);              // Friday evening
  CHECK(s->at(local(5, 11, 0)).rate == 100 * 1024);     // Saturday
  const auto sunday = s->at(local(6, 23, 0));           // wraps to Monday 08:00
  CHECK(sunday.rate == 100 * 1024);
  REQUIRE(sunday.holds_for);
  CHECK(sunday.holds_for->count() == 9 * 3600);
  CHECK(s->at(local(0, 7, 59)).rate == 100 * 1024);     // Monday before the first entry
}

TEST_CASE("malformed schedules are refused with the entry named", "[cli][schedule]") {
  for (const char* bad : {"08:00", "8:00,1M", "24:00,1M", "08:60,1M", "08:00,1X", "08:00,-1",
                          "Mon-08:00,1M 09:00,2M", "Xyz-08:00,1M", "08:00,1M 08:00,2M", "abc", ",1M",
                          "08:00,"}) {
    INFO(bad);
    auto s = RateSchedule::parse(bad);
    REQUIRE_FALSE(s);
    CHECK_FALSE(s.error().message().empty());
  }
  auto s = RateSchedule::parse("08:00,1M 9:00,2M");
  REQUIRE_FALSE(s);
  CHECK(s.error().message().find("9:00,2M") != std::string::npos);
}
