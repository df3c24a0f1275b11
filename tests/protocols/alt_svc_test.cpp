// Alt-Svc parsing (RFC 7838 section 3): the forms servers send, parameters, and the malformed
// values that must say nothing (or drop only the entry that is broken).
#include <catch2/catch.hpp>

#include "protocols/http/alt_svc.h"

namespace xfer::protocols {

TEST_CASE("Alt-Svc: the forms servers send", "[alt-svc]") {
  auto a = parse_alt_svc(R"(h3=":443"; ma=86400, h3-29=":443"; ma=3600)");
  REQUIRE(a);
  CHECK_FALSE(a->clear);
  REQUIRE(a->entries.size() == 2);
  CHECK(a->entries[0].alpn == "h3");
  CHECK(a->entries[0].host.empty());
  CHECK(a->entries[0].port == 443);
  CHECK(a->entries[0].max_age_seconds == 86400);
  CHECK(a->entries[1].alpn == "h3-29");
  CHECK(a->entries[1].max_age_seconds == 3600);

  auto other = parse_alt_svc(R"(h3="alt.example.com:8443";persist=1)");
  REQUIRE(other);
  REQUIRE(other->entries.size() == 1);
  CHECK(other->entries[0].host == "alt.example.com");
  CHECK(other->entries[0].port == 8443);
  CHECK(other->entries[0].max_age_seconds == 86400);  // the default when ma is absent

  auto encoded = parse_alt_svc(R"(w%3Dx%3Ay=":80", h3=":4433"; ma="60")");
  REQUIRE(encoded);
  REQUIRE(encoded->entries.size() == 2);
  CHECK(encoded->entries[0].alpn == "w=x:y");
  CHECK(encoded->entries[1].max_age_seconds == 60);

  auto clear = parse_alt_svc("  clear ");
  REQUIRE(clear);
  CHECK(clear->clear);
  CHECK(clear->entries.empty());
}

TEST_CASE("Alt-Svc: a broken entry is dropped, a broken value says nothing", "[alt-svc]") {
  auto mixed = parse_alt_svc(R"(h3=":99999", h3=":443"; ma=10, h2=:443, h3="[::1]:8443")");
  REQUIRE(mixed);
  REQUIRE(mixed->entries.size() == 2);
  CHECK(mixed->entries[0].port == 443);
  CHECK(mixed->entries[0].max_age_seconds == 10);
  CHECK(mixed->entries[1].host == "[::1]");
  CHECK(mixed->entries[1].port == 8443);

  for (const char* bad : {"", "garbage", R"(h3=":0")", R"(h3="")", R"(h3=":443"; ma=-1)",
                          R"(h3=":443"; ma=1x)", R"(h3="host:443)", R"(h3=":44 3")", "clear, h3",
                          R"(="x:1")", R"(h3="a/b:443")", R"(h3=":443" junk)", "%zz=\":1\""}) {
    INFO(bad);
    CHECK_FALSE(parse_alt_svc(bad));
  }
  auto huge = parse_alt_svc(R"(h3=":443"; ma=99999999999999999999999)");
  REQUIRE(huge);
  CHECK(huge->entries[0].max_age_seconds == UINT64_MAX);
}

}  // namespace xfer::protocols
