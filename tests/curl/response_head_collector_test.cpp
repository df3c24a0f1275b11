// ResponseHeadCollector: libcurl header-callback lines → header blocks.
#include <catch2/catch.hpp>

#include "protocols/curl/response_head_collector.h"

namespace xfer::protocols::curl {
namespace {

std::vector<HeaderBlock> feed_all(ResponseHeadCollector& c, const std::vector<std::string>& lines) {
  std::vector<HeaderBlock> blocks;
  for (const auto& line : lines) {
    auto r = c.feed(line);
    REQUIRE(r.has_value());
    if (*r) blocks.push_back(std::move(**r));
  }
  return blocks;
}

}  // namespace

TEST_CASE("status lines parse for HTTP/1.x and HTTP/2", "[curl][headers]") {
  CHECK(parse_status_line("HTTP/1.1 206 Partial Content\r\n") == 206);
  CHECK(parse_status_line("HTTP/2 200 \r\n") == 200);
  CHECK(parse_status_line("HTTP/1.1 104\r\n") == 104);
  CHECK_FALSE(parse_status_line("HTTP/1.1 20x OK\r\n"));
  CHECK_FALSE(parse_status_line("content-length: 5\r\n"));
  CHECK_FALSE(parse_status_line("HTTP/1.1 2000 OK\r\n"));
}

TEST_CASE("interim, redirect and final blocks come out in order", "[curl][headers]") {
  ResponseHeadCollector c(256 * 1024);
  const auto blocks = feed_all(c, {"HTTP/1.1 104 Upload Resumption Supported\r\n",
                                   "Location: /uploads/7\r\n", "\r\n",
                                   "HTTP/1.1 302 Found\r\n", "Location: /b\r\n", "\r\n",
                                   "HTTP/1.1 200 OK\r\n", "Content-Length:  12 \r\n",
                                   "X-Folded: a\r\n", "  b\r\n", "\r\n",
                                   "trailer-field: x\r\n", "\r\n"});
  REQUIRE(blocks.size() == 3);
  CHECK(blocks[0].interim());
  CHECK(blocks[0].head.status == 104);
  CHECK(*blocks[0].head.find("location") == "/uploads/7");
  CHECK(blocks[1].head.status == 302);
  CHECK_FALSE(blocks[1].interim());
  CHECK(blocks[2].head.status == 200);
  CHECK(*blocks[2].head.find("content-length") == "12");
  CHECK(*blocks[2].head.find("x-folded") == "a b");
  CHECK(blocks[2].head.find("trailer-field") == nullptr);
}

TEST_CASE("the header byte cap and malformed lines fail as Protocol errors", "[curl][headers]") {
  ResponseHeadCollector capped(100);
  REQUIRE(capped.feed("HTTP/1.1 200 OK\r\n").has_value());
  auto over = capped.feed("x-big: " + std::string(100, 'a') + "\r\n");
  REQUIRE_FALSE(over.has_value());
  CHECK(over.error().category() == ErrorCategory::Protocol);

  ResponseHeadCollector c(1000);
  REQUIRE(c.feed("HTTP/1.1 200 OK\r\n").has_value());
  auto bad = c.feed("no colon here\r\n");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().category() == ErrorCategory::Protocol);
  ResponseHeadCollector d(1000);
  CHECK_FALSE(d.feed("HTTP/1.1 abc\r\n").has_value());
}

}  // namespace xfer::protocols::curl
