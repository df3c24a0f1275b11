// The CLI's shared formatting: ISO 8601 times in and out.
#include <catch2/catch.hpp>

#include <chrono>

#include "cli/options.h"

using namespace xfer::cli;

TEST_CASE("iso_utc and parse_iso_utc round-trip to the millisecond, and refuse anything else", "[cli][options]") {
  const auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796423223945));
  CHECK(iso_utc(at) == "2026-12-04T22:27:03.945Z");
  CHECK(parse_iso_utc(iso_utc(at)) == at);
  CHECK(parse_iso_utc("2026-12-04T22:27:03Z") == at - std::chrono::milliseconds(945));
  CHECK_FALSE(parse_iso_utc("2026-12-04T22:27:03"));
  CHECK_FALSE(parse_iso_utc("2026-12-04T22:27:03.9Z"));
  CHECK_FALSE(parse_iso_utc("2026-12-04 22:27:03Z"));
  CHECK_FALSE(parse_iso_utc("yesterday"));
}
