// RFC 3986 parsing and reference resolution (protocols/http/url.h): the examples of §5.4, the
// origin that headers are bound to, and the inputs a strict parser must refuse.
#include <catch2/catch.hpp>

#include "protocols/http/url.h"

using xfer::protocols::Url;

namespace {

std::string resolved(const std::string& base, const std::string& reference) {
  const auto b = Url::parse(base);
  REQUIRE(b.has_value());
  const auto t = b->resolve(reference);
  if (!t) return "error: " + t.error().message();
  return t->to_string();
}

std::string origin(const std::string& url) {
  const auto u = Url::parse_http(url);
  if (!u) return "error: " + u.error().message();
  return u->origin();
}

}  // namespace

TEST_CASE("url: RFC 3986 §5.4.1 normal examples", "[url]") {
  const std::string base = "http://a/b/c/d;p?q";
  struct Case {
    const char* reference;
    const char* target;
  };
  const Case c = GENERATE(
      Case{"g:h", "g:h"}, Case{"g", "http://a/b/c/g"}, Case{"./g", "http://a/b/c/g"},
      Case{"g/", "http://a/b/c/g/"}, Case{"/g", "http://a/g"},
      Case{"//g", "http://g/"},  // RFC: "http://g"; RFC 9110 makes it "/"
      Case{"?y", "http://a/b/c/d;p?y"}, Case{"g?y", "http://a/b/c/g?y"},
      Case{"#s", "http://a/b/c/d;p?q#s"}, Case{"g#s", "http://a/b/c/g#s"},
      Case{"g?y#s", "http://a/b/c/g?y#s"}, Case{";x", "http://a/b/c/;x"},
      Case{"g;x", "http://a/b/c/g;x"}, Case{"g;x?y#s", "http://a/b/c/g;x?y#s"},
      Case{"", "http://a/b/c/d;p?q"}, Case{".", "http://a/b/c/"}, Case{"./", "http://a/b/c/"},
      Case{"..", "http://a/b/"}, Case{"../", "http://a/b/"}, Case{"../g", "http://a/b/g"},
      Case{"../..", "http://a/"}, Case{"../../", "http://a/"}, Case{"../../g", "http://a/g"});
  INFO(c.reference);
  CHECK(resolved(base, c.reference) == c.target);
}

TEST_CASE("url: RFC 3986 §5.4.2 abnormal examples", "[url]") {
  const std::string base = "http://a/b/c/d;p?q";
  struct Case {
    const char* reference;
    const char* target;
  };
  const Case c =
      GENERATE(Case{"../../../g", "http://a/g"}, Case{"../../../../g", "http://a/g"},
               Case{"/./g", "http://a/g"}, Case{"/../g", "http://a/g"},
               Case{"g.", "http://a/b/c/g."}, Case{".g", "http://a/b/c/.g"},
               Case{"g..", "http://a/b/c/g.."}, Case{"..g", "http://a/b/c/..g"},
               Case{"./../g", "http://a/b/g"}, Case{"./g/.", "http://a/b/c/g/"},
               Case{"g/./h", "http://a/b/c/g/h"}, Case{"g/../h", "http://a/b/c/h"},
               Case{"g;x=1/./y", "http://a/b/c/g;x=1/y"}, Case{"g;x=1/../y", "http://a/b/c/y"},
               Case{"g?y/./x", "http://a/b/c/g?y/./x"}, Case{"g?y/../x", "http://a/b/c/g?y/../x"},
               Case{"g#s/./x", "http://a/b/c/g#s/./x"}, Case{"g#s/../x", "http://a/b/c/g#s/../x"});
  INFO(c.reference);
  CHECK(resolved(base, c.reference) == c.target);
  // Strict parsing: "http:g" is an http URL without a host, which RFC 9110 forbids.
  CHECK(resolved(base, "http:g").starts_with("error: "));
}

TEST_CASE("url: remove_dot_segments follows §5.2.4", "[url]") {
  CHECK(Url::remove_dot_segments("/a/b/c/./../../g") == "/a/g");
  CHECK(Url::remove_dot_segments("mid/content=5/../6") == "mid/6");
  CHECK(Url::remove_dot_segments("/..") == "/");
  CHECK(Url::remove_dot_segments("/../..") == "/");
  CHECK(Url::remove_dot_segments("..") == "");
  CHECK(Url::remove_dot_segments("/a/..") == "/");
  CHECK(Url::remove_dot_segments("/a//../b") == "/a/b");
  CHECK(Url::remove_dot_segments("") == "");
}

TEST_CASE("url: the origin is scheme, lower-cased host and explicit port", "[url]") {
  CHECK(origin("HTTPS://Example.COM/x") == "https://example.com:443");
  CHECK(origin("http://example.com") == "http://example.com:80");
  CHECK(origin("http://example.com:/") == "http://example.com:80");  // empty port = default
  CHECK(origin("http://example.com:8080/a?b#c") == "http://example.com:8080");
  CHECK(origin("https://example.com:0443/") == "https://example.com:443");
  CHECK(origin("http://user:pass@example.com/") == "http://example.com:80");
  CHECK(origin("http://[::1]:8080/") == "http://[::1]:8080");
  CHECK(origin("http://[0:0:0::1]/") == "http://[::1]:80");  // canonical IPv6
  CHECK(origin("http://[::FFFF:7F00:1]/") == "http://[::ffff:127.0.0.1]:80");
  // Where other parsers have been fooled: the host ends at the first of / ? #.
  CHECK(origin("http://a.example#@b.example/") == "http://a.example:80");
  CHECK(origin("http://a.example?@b.example/") == "http://a.example:80");
  CHECK(origin("http://a.example:80@b.example/") == "http://b.example:80");  // userinfo
  // Different spellings of one host stay different origins (the safe direction).
  CHECK(origin("http://127.1/") != origin("http://127.0.0.1/"));
}

TEST_CASE("url: components are kept and the empty http path is /", "[url]") {
  const auto u = Url::parse_http("https://u%40x:p@Host.example:8443?q=1#frag");
  REQUIRE(u.has_value());
  CHECK(u->scheme == "https");
  CHECK(u->userinfo == "u%40x:p");
  CHECK(u->host == "host.example");
  CHECK(u->port == 8443);
  CHECK(u->path == "/");
  CHECK(u->query == "q=1");
  CHECK(u->fragment == "frag");
  CHECK(u->to_string() == "https://u%40x:p@host.example:8443/?q=1#frag");
  CHECK(u->without_fragment() == "https://u%40x:p@host.example:8443/?q=1");
}

TEST_CASE("url: a strict parser refuses what others read differently", "[url]") {
  const char* bad = GENERATE(
      "http://exa mple.com/", "http://example.com/a b", "http://example.com/\x01",
      "http://example.com/\r\nX-Injected: 1", "http://example.com/\t",
      "http://example.com\\@evil.example/", "http://example.com/a\\b", "http://a@b@c.example/",
      "http://example.com:65536/", "http://example.com:0/", "http://example.com:8o/",
      "http://example.com:-1/", "http://[::1/", "http://[::1]x/", "http://[fe80::1%25eth0]/",
      "http://[v1.x]/", "http://[1.2.3.4]/", "http:///path", "http://", "http:path",
      "http://ex%61mple.com/", "http://exa!mple.com/", "http://ex\xc3\xa4mple.com/",
      "http://example.com/%zz", "http://example.com/%4", "http://example.com/?%",
      "ftp://example.com/", "/relative/only", "1http://example.com/", "", " http://example.com/",
      "http://example.com/ ", "http://example.com/#a#b");
  INFO(bad);
  const auto parsed = Url::parse_http(bad);
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().category() == xfer::ErrorCategory::InvalidArgument);
}

TEST_CASE("url: non-ASCII and unwise characters in path and query are percent-encoded", "[url]") {
  const auto u = Url::parse_http("http://example.com/f\xc3\xbc r");
  CHECK_FALSE(u.has_value());  // the space is refused, not repaired
  const auto v = Url::parse_http("http://example.com/f\xc3\xbc{1}|[x]?q=\"a<b>\"^`");
  REQUIRE(v.has_value());
  CHECK(v->path == "/f%C3%BC%7B1%7D%7C%5Bx%5D");
  CHECK(v->query == "q=%22a%3Cb%3E%22%5E%60");
  CHECK(resolved("http://example.com/a/b", "\xe2\x82\xac.bin") ==
        "http://example.com/a/%E2%82%AC.bin");
}

TEST_CASE("url: references may leave the scheme, the origin, or http altogether", "[url]") {
  CHECK(resolved("https://a.example/x/y", "//b.example/z") == "https://b.example/z");
  CHECK(resolved("https://a.example/x/y", "http://B.example:80/z") == "http://b.example:80/z");
  CHECK(resolved("https://a.example/x", "ftp://files.example/f") == "ftp://files.example/f");
  CHECK(resolved("https://a.example/x", "javascript:alert(1)") == "javascript:alert(1)");
  CHECK(resolved("https://u:p@a.example/x", "/y") == "https://u:p@a.example/y");
  CHECK(resolved("https://a.example/x", "//evil.example:99999/").starts_with("error: "));
  CHECK(resolved("https://a.example/x", "/a b").starts_with("error: "));
  CHECK(resolved("https://a.example/x", "//").starts_with("error: "));  // no host
  const auto base = Url::parse("https://a.example/x");
  REQUIRE(base.has_value());
  const auto t = base->resolve("//b.example:8443/z");
  REQUIRE(t.has_value());
  CHECK(t->origin() == "https://b.example:8443");
  CHECK(base->resolve("mailto:x@y.example")->origin().empty());
}

// Found by tests/fuzz/url: dot-segment removal turned "htt+p::/..//g" (path ":/..//g") into a
// URL without authority whose path starts with "//", which to_string() wrote as "htt+p://g"
// (host g): a different URL. RFC 3986 §3.3 forbids that path; it is refused now.
TEST_CASE("url: a resolved path never reads back as an authority", "[url]") {
  CHECK(resolved("https://a.example/x", "htt+p::/..//g").starts_with("error: "));
  CHECK(resolved("foo:/a/b", "..//g").starts_with("error: "));
  CHECK(resolved("foo:/a/b", "../g") == "foo:/g");
  CHECK(resolved("https://a.example/x", "/..//g") == "https://a.example//g");  // has an authority
  const auto base = Url::parse("foo:/a/b");
  REQUIRE(base.has_value());
  for (const char* ref : {"x:/.//g", "..//g", "./..//g", "x:..//g"}) {
    INFO(ref);
    const auto t = base->resolve(ref);
    if (!t) continue;
    const auto again = Url::parse(t->to_string());
    REQUIRE(again.has_value());
    CHECK(again->to_string() == t->to_string());
    CHECK(again->host == t->host);
  }
}
