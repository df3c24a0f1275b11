// Which redirects are followed and what the next request carries (redirect_policy.h): the
// origin rule for caller headers, method rewriting, body replay, refusals.
#include <catch2/catch.hpp>

#include <algorithm>

#include "protocols/redirect/redirect_policy.h"

namespace xfer::protocols {
namespace {

struct Scenario {
  HttpRequest original;
  Url original_url;
  HttpRequest current;
  Url current_url;
  std::uint32_t redirects_so_far = 0;
  std::uint32_t max_redirects = 10;
  bool replayable = false;

  explicit Scenario(std::string url, std::string method = "GET") {
    original.url = std::move(url);
    original.method = std::move(method);
    original.headers = {{"X-Api-Key", "k-123"},
                        {"Authorization", "Bearer t"},
                        {"Cookie", "s=1"},
                        {"Range", "bytes=100-"},
                        {"If-Range", "\"etag\""},
                        {"Want-Repr-Digest", "sha-256=5"},
                        {"Content-Type", "application/json"}};
    auto parsed = Url::parse_http(original.url);
    REQUIRE(parsed.has_value());
    original_url = *parsed;
    current = first_hop_request(original, original_url);
    current_url = original_url;
  }

  RedirectDecision answer(int status, std::optional<std::string> location) const {
    ResponseHeaders head;
    head.status = status;
    if (location) head.fields.emplace_back("location", *location);
    return decide_redirect(RedirectHop{original, original_url, current, current_url, head,
                                       redirects_so_far, max_redirects, replayable});
  }

  // Moves on to the hop `d` follows, as RedirectingStream does.
  void take(const RedirectDecision& d) {
    REQUIRE(d.follow);
    current = *d.follow;
    current_url = *d.follow_url;
    ++redirects_so_far;
  }
};

bool has(const HttpRequest& r, std::string_view name) {
  return std::any_of(r.headers.begin(), r.headers.end(),
                     [&](const auto& h) { return h.first == name; });
}

}  // namespace

TEST_CASE("redirect policy: followed statuses need a Location", "[redirect]") {
  Scenario s("https://a.example/f");
  for (int status : {301, 302, 303, 307, 308}) {
    INFO(status);
    CHECK(s.answer(status, "/g").follow);
  }
  for (int status : {300, 304, 305, 306, 200, 404}) {
    INFO(status);
    const auto d = s.answer(status, "/g");
    CHECK_FALSE(d.follow);
    CHECK_FALSE(d.refuse);
  }
  CHECK_FALSE(s.answer(302, std::nullopt).follow);
  CHECK_FALSE(s.answer(302, "").follow);
}

TEST_CASE("redirect policy: caller headers stay with the original origin", "[redirect]") {
  Scenario s("https://a.example/dir/f?x#frag");
  SECTION("same origin keeps them all, relative Location resolved, no fragment on the wire") {
    const auto d = s.answer(302, "../g?y");
    REQUIRE(d.follow);
    CHECK(d.follow->url == "https://a.example/g?y");
    CHECK(d.follow->headers == s.original.headers);
    CHECK(d.follow->method == "GET");
  }
  SECTION("another host, port or scheme gets only the origin-free fields") {
    for (const char* location : {"https://b.example/g", "https://a.example:8443/g",
                                 "http://a.example/g", "//A.example.:443/g"}) {
      INFO(location);
      const auto d = s.answer(302, location);
      REQUIRE(d.follow);
      CHECK_FALSE(has(*d.follow, "X-Api-Key"));
      CHECK_FALSE(has(*d.follow, "Authorization"));
      CHECK_FALSE(has(*d.follow, "Cookie"));
      CHECK(has(*d.follow, "Range"));
      CHECK(has(*d.follow, "If-Range"));
      CHECK(has(*d.follow, "Want-Repr-Digest"));
    }
    // Only the explicit default port is the same origin.
    CHECK(has(*s.answer(302, "https://A.EXAMPLE:443/g").follow, "X-Api-Key"));
  }
  SECTION("judged against the original, hop by hop: back home, they return") {
    s.take(s.answer(302, "https://cdn.example/x"));
    CHECK_FALSE(has(s.current, "X-Api-Key"));
    const auto d = s.answer(302, "https://a.example/back");
    REQUIRE(d.follow);
    CHECK(has(*d.follow, "X-Api-Key"));
    CHECK(has(*d.follow, "Authorization"));
  }
  SECTION("the flag forwards everything, but never down to cleartext") {
    s.original.forward_headers_across_origins = true;
    const auto other = s.answer(307, "https://b.example/g");
    REQUIRE(other.follow);
    CHECK(other.follow->headers == s.original.headers);
    const auto downgrade = s.answer(307, "http://b.example/g");
    REQUIRE(downgrade.follow);
    CHECK_FALSE(has(*downgrade.follow, "Authorization"));
    CHECK_FALSE(has(*downgrade.follow, "X-Api-Key"));
    CHECK(has(*downgrade.follow, "Range"));
  }
}

TEST_CASE("redirect policy: userinfo is a caller credential - a Location's is dropped",
          "[redirect]") {
  Scenario s("http://user:pw@a.example/f");
  CHECK(s.answer(302, "http://a.example/g").follow->url == "http://user:pw@a.example/g");
  CHECK(s.answer(302, "/g").follow->url == "http://user:pw@a.example/g");
  CHECK(s.answer(302, "http://b.example/g").follow->url == "http://b.example/g");
  CHECK(s.answer(302, "http://evil:x@b.example/g").follow->url == "http://b.example/g");
  Scenario plain("http://a.example/f");
  CHECK(plain.answer(302, "http://evil:x@a.example/g").follow->url == "http://a.example/g");
}

TEST_CASE("redirect policy: method rewriting like browsers and curl", "[redirect]") {
  SECTION("303 turns anything but HEAD into a bodiless GET") {
    Scenario post("https://a.example/f", "POST");
    post.original.body_length = 10;
    post.current.body_length = 10;
    const auto d = post.answer(303, "/result");
    REQUIRE(d.follow);
    CHECK(d.follow->method == "GET");
    CHECK_FALSE(d.follow->body_length);
    CHECK_FALSE(has(*d.follow, "Content-Type"));
    CHECK(has(*d.follow, "X-Api-Key"));
    Scenario head("https://a.example/f", "HEAD");
    CHECK(head.answer(303, "/result").follow->method == "HEAD");
  }
  SECTION("301 and 302 turn POST into GET, keep other methods") {
    for (int status : {301, 302}) {
      Scenario post("https://a.example/f", "POST");
      post.current.body_length = 10;
      post.original.body_length = 10;
      CHECK(post.answer(status, "/g").follow->method == "GET");
      Scenario del("https://a.example/f", "DELETE");
      CHECK(del.answer(status, "/g").follow->method == "DELETE");
    }
  }
  SECTION("a kept body is followed only when the sink can replay it") {
    for (int status : {307, 308}) {
      INFO(status);
      Scenario put("https://a.example/f", "PUT");
      put.current.body_length = 10;
      const auto held = put.answer(status, "/g");
      CHECK_FALSE(held.follow);  // delivered: the caller decides
      CHECK_FALSE(held.refuse);
      put.replayable = true;
      const auto d = put.answer(status, "/g");
      REQUIRE(d.follow);
      CHECK(d.follow->method == "PUT");
      CHECK(d.follow->body_length == 10);
      CHECK(has(*d.follow, "Content-Type"));
    }
    Scenario put("https://a.example/f", "PUT");
    put.current.body_length = 10;
    CHECK_FALSE(put.answer(302, "/g").follow);
  }
}

TEST_CASE("redirect policy: refusals are Protocol errors, not retryable", "[redirect]") {
  Scenario s("https://a.example/f");
  const char* location =
      GENERATE("ftp://a.example/f", "file:///etc/passwd", "javascript:x", "http://a b/",
               "http://a.example:99999/", "/a\\b", "http://[::1/");
  INFO(location);
  const auto d = s.answer(301, location);
  CHECK_FALSE(d.follow);
  REQUIRE(d.refuse);
  CHECK(d.refuse->category() == ErrorCategory::Protocol);
  CHECK_FALSE(d.refuse->retryable());
}

TEST_CASE("redirect policy: hops are bounded", "[redirect]") {
  Scenario s("https://a.example/f");
  s.max_redirects = 3;
  for (int i = 0; i < 3; ++i) s.take(s.answer(302, "/f"));
  const auto d = s.answer(302, "/f");
  REQUIRE(d.refuse);
  CHECK(d.refuse->category() == ErrorCategory::Protocol);
  CHECK(d.refuse->message().find("too many redirects") != std::string::npos);
  s.max_redirects = 0;
  s.redirects_so_far = 0;
  CHECK(s.answer(302, "/f").refuse);
}

TEST_CASE("redirect policy: origin-free fields carry no credentials", "[redirect]") {
  for (const char* name : {"Range", "if-range", "Want-Repr-Digest", "Upload-Offset", "Accept"}) {
    CHECK(is_origin_free_field(name));
  }
  for (const char* name : {"Authorization", "Cookie", "Proxy-Authorization", "X-Api-Key",
                           "X-Auth-Token", "Xfer-Fault", "Referer"}) {
    CHECK_FALSE(is_origin_free_field(name));
  }
}

}  // namespace xfer::protocols
