#include <catch2/catch.hpp>

#include "protocols/upload/upload_fields.h"

using namespace std::chrono_literals;
using namespace xfer;
using namespace xfer::protocols;

TEST_CASE("Upload-Offset and Upload-Length", "[upload][fields]") {
  CHECK(parse_upload_offset("0") == 0u);
  CHECK(parse_upload_offset("25000000") == 25'000'000u);
  CHECK(parse_upload_offset("999999999999999") == 999'999'999'999'999u);
  CHECK(parse_upload_offset("12;foo=bar") == 12u);
  CHECK(parse_upload_length("100") == 100u);
  for (const char* bad : {"", "-1", "1.0", "\"1\"", "?1", "1000000000000000", "1 2", "1,2", "abc", "+1"}) {
    INFO(bad);
    CHECK_FALSE(parse_upload_offset(bad).has_value());
    CHECK_FALSE(parse_upload_length(bad).has_value());
  }
  CHECK(format_upload_integer(0) == "0");
  CHECK(format_upload_integer(1234567890) == "1234567890");
  CHECK_FALSE(format_upload_integer(1'000'000'000'000'000ull).has_value());
}

TEST_CASE("Upload-Limit per dialect", "[upload][fields]") {
  const auto v6 = *dialect_for(6);
  const auto v9 = *dialect_for(9);
  auto l = parse_upload_limit("max-size=1000, min-size=0, max-append-size=100, min-append-size=10, max-age=3600", v9);
  REQUIRE(l.has_value());
  CHECK(l->max_size == 1000u);
  CHECK(l->min_size == 0u);
  CHECK(l->max_append_size == 100u);
  CHECK(l->min_append_size == 10u);
  CHECK(l->max_age == 3600s);
  // v6 calls the lifetime "expires"; each dialect ignores the other's key as unknown.
  CHECK(parse_upload_limit("expires=60", v6)->max_age == 60s);
  CHECK_FALSE(parse_upload_limit("max-age=60", v6)->max_age.has_value());
  CHECK_FALSE(parse_upload_limit("expires=60", v9)->max_age.has_value());
  CHECK(parse_upload_limit("future-limit=\"x\", max-size=5", v9)->max_size == 5u);
  CHECK(parse_upload_limit("", v9).value() == UploadLimits{});
  for (const char* bad : {"max-size=\"1\"", "max-size=-1", "max-size=1.5", "max-size", "max-size=(1 2)",
                          "max-age=?1", "max-size=1,", "Max-Size=1", "min-append-size=10, max-append-size=5"}) {
    INFO(bad);
    const auto r = parse_upload_limit(bad, v9);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().category() == xfer::ErrorCategory::Protocol);
  }
}

TEST_CASE("append sizes respect min/max-append-size", "[upload][fields]") {
  UploadLimits limits;
  CHECK(next_append_size(limits, 1000, 0) == 1000u);
  CHECK(next_append_size(limits, 1000, 300) == 300u);
  CHECK(next_append_size(limits, 0, 300) == 0u);
  limits.max_append_size = 256;
  CHECK(next_append_size(limits, 1000, 0) == 256u);
  CHECK(next_append_size(limits, 100, 0) == 100u);
  limits.min_append_size = 64;
  CHECK(next_append_size(limits, 1000, 10) == 64u);  // raised to the minimum
  CHECK(next_append_size(limits, 20, 10) == 20u);    // the final append may be smaller
  UploadLimits zero;
  zero.max_append_size = 0;
  CHECK_FALSE(next_append_size(zero, 10, 0).has_value());
  UploadLimits size;
  size.max_size = 100;
  CHECK(check_total_size(size, 100).has_value());
  CHECK_FALSE(check_total_size(size, 101).has_value());
  CHECK(check_total_size(UploadLimits{}, 1ull << 60).has_value());
}
