#include <catch2/catch.hpp>

#include "protocols/upload/interim_response.h"

using namespace xfer::protocols;

namespace {

Url url(std::string_view text) {
  const auto parsed = Url::parse_http(text);
  REQUIRE(parsed.has_value());
  return *parsed;
}

ResponseHeaders interim(int version, std::optional<std::string> location,
                        std::optional<std::string> offset = std::nullopt,
                        std::optional<std::string> limit = std::nullopt) {
  ResponseHeaders h;
  h.status = 104;
  if (version > 0) h.fields.push_back({"upload-draft-interop-version", std::to_string(version)});
  if (location) h.fields.push_back({"location", *location});
  if (offset) h.fields.push_back({"upload-offset", *offset});
  if (limit) h.fields.push_back({"upload-limit", *limit});
  return h;
}

}  // namespace

TEST_CASE("104 validation: interop echo, origin, stable Location, monotonic offsets",
          "[upload][interim]") {
  const auto request = url("https://up.example:8443/files/new?x=1");
  for (int v = kMinInteropVersion; v <= kMaxInteropVersion; ++v) {
    INFO("interop " << v);
    const auto dialect = *dialect_for(v);
    auto d = judge_interim(interim(v, "/uploads/abc"), dialect, request, std::nullopt, std::nullopt);
    CHECK(d.verdict == InterimVerdict::Accept);
    CHECK(d.upload_url == "https://up.example:8443/uploads/abc");
    // Missing or other version: ignored, never trusted.
    CHECK(judge_interim(interim(0, "/uploads/abc"), dialect, request, std::nullopt, std::nullopt).verdict ==
          InterimVerdict::Ignore);
    CHECK(judge_interim(interim(v == kMaxInteropVersion ? v - 1 : v + 1, "/uploads/abc"), dialect, request, std::nullopt,
                        std::nullopt)
              .verdict == InterimVerdict::Ignore);
  }
  const auto v9 = *dialect_for(9);
  SECTION("relative Location") {
    auto d = judge_interim(interim(9, "abc"), v9, request, std::nullopt, std::nullopt);
    CHECK(d.upload_url == "https://up.example:8443/files/abc");
  }
  SECTION("another https origin is accepted (the request builder withholds credentials there)") {
    for (const char* loc : {"https://evil.example/u/1", "https://up.example/u/1", "//store.example/u"}) {
      INFO(loc);
      const auto d = judge_interim(interim(9, std::string(loc)), v9, request, std::nullopt, std::nullopt);
      CHECK(d.verdict == InterimVerdict::Accept);
      REQUIRE(d.upload_url.has_value());
      CHECK(d.upload_url->rfind("https://", 0) == 0);
    }
  }
  SECTION("a Location that leaves https, is not http(s), or carries userinfo is a violation") {
    for (const char* loc : {"http://up.example:8443/u/1", "http://evil.example/u/1"}) {
      INFO(loc);
      const auto d = judge_interim(interim(9, std::string(loc)), v9, request, std::nullopt, std::nullopt);
      CHECK(d.verdict == InterimVerdict::Violation);
      CHECK(d.reason.find("leaves https") != std::string::npos);
      CHECK_FALSE(d.upload_url.has_value());
    }
    // From http, https is an upgrade, not a leak.
    CHECK(judge_interim(interim(9, "https://up.example/u"), v9, url("http://up.example/files"),
                        std::nullopt, std::nullopt)
              .verdict == InterimVerdict::Accept);
    for (const char* loc : {"ftp://up.example/x", "mailto:x@y", "javascript:alert(1)", "/a b",
                            "https://user:pw@up.example:8443/u/1", "http://[::1/"}) {
      INFO(loc);
      CHECK(judge_interim(interim(9, std::string(loc)), v9, request, std::nullopt, std::nullopt).verdict ==
            InterimVerdict::Violation);
    }
  }
  SECTION("userinfo in the request URL is not the server's: a relative Location is fine") {
    const auto with_user = url("https://u:p@up.example:8443/files/new");
    const auto d = judge_interim(interim(9, "/uploads/abc"), v9, with_user, std::nullopt, std::nullopt);
    CHECK(d.verdict == InterimVerdict::Accept);
    CHECK(d.upload_url == "https://up.example:8443/uploads/abc");
  }
  SECTION("Location is resolved per RFC 3986, fragment dropped") {
    const auto d = judge_interim(interim(9, " ../up/./x/../y?z=1#frag "), v9, request, std::nullopt,
                                 std::nullopt);
    CHECK(d.verdict == InterimVerdict::Accept);
    CHECK(d.upload_url == "https://up.example:8443/up/y?z=1");
  }
  SECTION("Location must not change") {
    const std::optional<std::string> known = "https://up.example:8443/uploads/abc";
    CHECK(judge_interim(interim(9, "/uploads/abc"), v9, request, known, std::nullopt).verdict ==
          InterimVerdict::Accept);
    CHECK(judge_interim(interim(9, "/uploads/xyz"), v9, request, known, std::nullopt).verdict ==
          InterimVerdict::Violation);
    // One resource however its origin is spelled.
    CHECK(judge_interim(interim(9, "https://UP.example:8443/uploads/abc"), v9, request, known,
                        std::nullopt)
              .verdict == InterimVerdict::Accept);
    CHECK(judge_interim(interim(9, "/uploads/abc?x"), v9, request, known, std::nullopt).verdict ==
          InterimVerdict::Violation);
  }
  SECTION("progress interims") {
    auto d = judge_interim(interim(9, std::nullopt, "1000"), v9, request, std::nullopt, 500);
    CHECK(d.verdict == InterimVerdict::Accept);
    CHECK(d.offset == 1000u);
    CHECK_FALSE(d.upload_url.has_value());
    CHECK(judge_interim(interim(9, std::nullopt, "1000"), v9, request, std::nullopt, 1000).verdict ==
          InterimVerdict::Accept);
    CHECK(judge_interim(interim(9, std::nullopt, "999"), v9, request, std::nullopt, 1000).verdict ==
          InterimVerdict::Violation);
    CHECK(judge_interim(interim(9, std::nullopt, "-5"), v9, request, std::nullopt, std::nullopt).verdict ==
          InterimVerdict::Violation);
  }
  SECTION("limits in the 104; an invalid Upload-Limit is ignored") {
    auto d = judge_interim(interim(9, "/u/1", std::nullopt, "max-size=100, max-age=60"), v9, request,
                           std::nullopt, std::nullopt);
    REQUIRE(d.limits.has_value());
    CHECK(d.limits->max_size == 100u);
    d = judge_interim(interim(9, "/u/1", std::nullopt, "max-size=\"big\""), v9, request, std::nullopt,
                      std::nullopt);
    CHECK(d.verdict == InterimVerdict::Accept);
    CHECK_FALSE(d.limits.has_value());
    // v3 has no Upload-Limit at all.
    d = judge_interim(interim(3, "/u/1", std::nullopt, "max-size=100"), *dialect_for(3), request, std::nullopt,
                      std::nullopt);
    CHECK_FALSE(d.limits.has_value());
  }
  SECTION("not a 104") {
    auto h = interim(9, "/u/1");
    h.status = 100;
    CHECK(judge_interim(h, v9, request, std::nullopt, std::nullopt).verdict == InterimVerdict::Ignore);
  }
}
