#include <catch2/catch.hpp>

#include "protocols/http/base64.h"
#include "protocols/upload/tus_fields.h"

using namespace xfer;
using namespace xfer::protocols;

TEST_CASE("tus integers are plain digits that fit", "[upload][tus][fields]") {
  CHECK(parse_tus_integer("0") == 0u);
  CHECK(parse_tus_integer("17") == 17u);
  CHECK(parse_tus_integer("999999999999999999") == 999'999'999'999'999'999u);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1.0", "0x10", "1e3", "1000000000000000000", "12;a=b"}) {
    INFO(bad);
    CHECK_FALSE(parse_tus_integer(bad).has_value());
  }
}

TEST_CASE("tus OPTIONS capabilities", "[upload][tus][fields]") {
  ResponseHeaders head;
  head.status = 204;
  head.fields = {{"tus-version", "1.0.0, 0.2.2"},
                 {"tus-extension", "creation,creation-with-upload , termination,,expiration"},
                 {"tus-max-size", "1073741824"},
                 {"tus-checksum-algorithm", "SHA1,md5"}};
  auto caps = parse_tus_capabilities(head);
  REQUIRE(caps.has_value());
  CHECK(caps->speaks_1_0());
  CHECK(caps->versions == std::vector<std::string>{"1.0.0", "0.2.2"});
  CHECK(caps->has("creation-with-upload"));
  CHECK(caps->has("expiration"));
  CHECK_FALSE(caps->has("concatenation"));
  CHECK(caps->max_size == 1073741824u);
  CHECK(caps->checksum_algorithms == std::vector<std::string>{"sha1", "md5"});

  head.fields = {{"tus-version", "2.0.0"}, {"tus-max-size", "0"}};
  caps = parse_tus_capabilities(head);
  REQUIRE(caps.has_value());
  CHECK_FALSE(caps->speaks_1_0());
  CHECK_FALSE(caps->max_size.has_value());  // 0: no limit

  head.fields = {{"tus-version", "1.0.0"}, {"tus-max-size", "-5"}};
  CHECK_FALSE(parse_tus_capabilities(head).has_value());
  head.fields = {{"tus-extension", "creation"}};
  CHECK_FALSE(parse_tus_capabilities(head).has_value());  // not a tus server
}

TEST_CASE("tus Upload-Metadata and base64", "[upload][tus][fields]") {
  CHECK(base64_encode(std::string_view("")) == "");
  CHECK(base64_encode(std::string_view("f")) == "Zg==");
  CHECK(base64_encode(std::string_view("fo")) == "Zm8=");
  CHECK(base64_encode(std::string_view("foo")) == "Zm9v");
  CHECK(format_tus_metadata({{"filename", "a b.txt"}, {"is_confidential", ""}}) ==
        "filename YSBiLnR4dA==,is_confidential");
  // Keys that break the rules, and repeats, are left out.
  CHECK(format_tus_metadata({{"bad key", "x"}, {"a,b", "x"}, {"", "x"}, {"k", "1"}, {"k", "2"}}) == "k MQ==");
}
