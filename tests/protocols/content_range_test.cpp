#include <catch2/catch.hpp>

#include "protocols/download/content_range.h"

using namespace xfer::protocols;

TEST_CASE("Range header", "[content_range]") {
  CHECK(format_range(0) == "bytes=0-");
  CHECK(format_range(1000) == "bytes=1000-");
  CHECK(format_range(5, 9) == "bytes=5-9");
  CHECK(format_range(18446744073709551614ull) == "bytes=18446744073709551614-");
}

TEST_CASE("Content-Range parsing", "[content_range]") {
  auto r = parse_content_range("bytes 100-199/1000");
  REQUIRE(r);
  CHECK_FALSE(r->unsatisfied);
  CHECK(r->first == 100);
  CHECK(r->last == 199);
  CHECK(r->complete_length == 1000u);
  CHECK(r->length() == 100);

  r = parse_content_range("bytes 0-0/*");
  REQUIRE(r);
  CHECK_FALSE(r->complete_length);
  CHECK(r->length() == 1);

  r = parse_content_range("bytes */1000");
  REQUIRE(r);
  CHECK(r->unsatisfied);
  CHECK(r->complete_length == 1000u);
  CHECK(r->length() == 0);

  CHECK(parse_content_range("Bytes 1-2/3"));
  CHECK(parse_content_range("bytes 0-9/10"));
  CHECK(parse_content_range("bytes 0-9223372036854775806/9223372036854775807"));

  for (const char* bad : {"", "bytes", "bytes ", "bytes 1-2", "bytes 1-2/", "bytes 2-1/10", "bytes 0-10/10",
                          "bytes */*", "bytes 1-/10", "bytes -1/10", "bytes 1 - 2/10", "bytes=1-2/10",
                          "items 1-2/10", "bytes 1-2/10, bytes 3-4/10", "bytes +1-2/10", "bytes 0x1-2/10",
                          "bytes 1-2/-10", "bytes 99999999999999999999-99999999999999999999/*",
                          "bytes  1-2/10", "bytes 1-2/10 x"}) {
    INFO(bad);
    CHECK_FALSE(parse_content_range(bad));
  }
}

TEST_CASE("Content-Length parsing", "[content_range]") {
  CHECK(parse_content_length("0") == 0u);
  CHECK(parse_content_length(" 42 ") == 42u);
  CHECK(parse_content_length("42, 42") == 42u);
  CHECK(parse_content_length("42,42,42") == 42u);
  for (const char* bad : {"", "-1", "+1", "4 2", "42, 43", "42,", ",42", "1e3", "0x10", "abc",
                          "99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(parse_content_length(bad));
  }
}
