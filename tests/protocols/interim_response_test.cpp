#include <catch2/catch.hpp>

#include "protocols/upload/interim_response.h"

using namespace xfer::protocols;

namespace {

HttpUrl url(std::string_view text) {
  const auto parsed = parse_http_url(text);
  REQUIRE(parsed.has_value());
  return *parsed;
}

std::string resolve(std::string_view base, std::string_view ref) {
  const auto r = resolve_url(url(base), ref);
  REQUIRE(r.has_value());
  return r->to_string();
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

TEST_CASE("http URLs and origins", "[upload][url]") {
  const auto u = url("HTTPS://Example.COM/a/b?x=1#frag");
  CHECK(u.scheme == "https");
  CHECK(u.host == "example.com");
  CHECK(u.port == 443);
  CHECK(u.path == "/a/b?x=1");
  CHECK(u.origin() == "https://example.com:443");
  CHECK(u.to_string() == "https://example.com/a/b?x=1");
  CHECK(url("http://h:8080").to_string() == "http://h:8080/");
  CHECK(url("http://[::1]:9/x").host == "[::1]");
  CHECK(url("http://h?q").path == "/?q");
  CHECK(same_origin(url("https://a/x"), url("https://A:443/y")));
  CHECK_FALSE(same_origin(url("https://a/x"), url("http://a/x")));
  CHECK_FALSE(same_origin(url("https://a/x"), url("https://a:8443/x")));
  CHECK_FALSE(same_origin(url("https://a/x"), url("https://b/x")));
  for (const char* bad : {"", "ftp://h/", "http:/h", "http://", "http://user@h/", "http://h:0/",
                          "http://h:65536/", "http://h:x/", "http://[::1/", "http://h /", "http://a:b:c/",
                          "//h/x", "/x", "http://h\\x/"}) {
    INFO(bad);
    CHECK_FALSE(parse_http_url(bad).has_value());
  }
}

TEST_CASE("Location resolution per RFC 3986 §5.4", "[upload][url]") {
  const char* base = "http://a/b/c/d;p?q";
  CHECK(resolve(base, "g") == "http://a/b/c/g");
  CHECK(resolve(base, "./g") == "http://a/b/c/g");
  CHECK(resolve(base, "g/") == "http://a/b/c/g/");
  CHECK(resolve(base, "/g") == "http://a/g");
  CHECK(resolve(base, "//g") == "http://g/");
  CHECK(resolve(base, "?y") == "http://a/b/c/d;p?y");
  CHECK(resolve(base, "g?y") == "http://a/b/c/g?y");
  CHECK(resolve(base, "#s") == "http://a/b/c/d;p?q");
  CHECK(resolve(base, "") == "http://a/b/c/d;p?q");
  CHECK(resolve(base, ".") == "http://a/b/c/");
  CHECK(resolve(base, "..") == "http://a/b/");
  CHECK(resolve(base, "../g") == "http://a/b/g");
  CHECK(resolve(base, "../..") == "http://a/");
  CHECK(resolve(base, "../../g") == "http://a/g");
  CHECK(resolve(base, "../../../g") == "http://a/g");
  CHECK(resolve(base, "/./g") == "http://a/g");
  CHECK(resolve(base, "/../g") == "http://a/g");
  CHECK(resolve(base, "g.") == "http://a/b/c/g.");
  CHECK(resolve(base, "./../g") == "http://a/b/g");
  CHECK(resolve(base, "g/../h") == "http://a/b/c/h");
  CHECK(resolve(base, "https://other:8443/x/../y") == "https://other:8443/y");
  CHECK_FALSE(resolve_url(url(base), "mailto:x@y").has_value());
  CHECK_FALSE(resolve_url(url(base), "javascript:alert(1)").has_value());
  CHECK_FALSE(resolve_url(url(base), "/a b").has_value());
}

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
    CHECK(judge_interim(interim(v == 9 ? 8 : v + 1, "/uploads/abc"), dialect, request, std::nullopt,
                        std::nullopt)
              .verdict == InterimVerdict::Ignore);
  }
  const auto v9 = *dialect_for(9);
  SECTION("relative Location") {
    auto d = judge_interim(interim(9, "abc"), v9, request, std::nullopt, std::nullopt);
    CHECK(d.upload_url == "https://up.example:8443/files/abc");
  }
  SECTION("cross-origin Location is a violation (credentials must not follow)") {
    for (const char* loc : {"https://evil.example/u/1", "http://up.example:8443/u/1", "https://up.example/u/1",
                            "//evil.example/u"}) {
      INFO(loc);
      const auto d = judge_interim(interim(9, std::string(loc)), v9, request, std::nullopt, std::nullopt);
      CHECK(d.verdict == InterimVerdict::Violation);
      CHECK_FALSE(d.upload_url.has_value());
    }
    CHECK(judge_interim(interim(9, "ftp://up.example/x"), v9, request, std::nullopt, std::nullopt).verdict ==
          InterimVerdict::Violation);
  }
  SECTION("Location must not change") {
    const std::optional<std::string> known = "https://up.example:8443/uploads/abc";
    CHECK(judge_interim(interim(9, "/uploads/abc"), v9, request, known, std::nullopt).verdict ==
          InterimVerdict::Accept);
    CHECK(judge_interim(interim(9, "/uploads/xyz"), v9, request, known, std::nullopt).verdict ==
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
