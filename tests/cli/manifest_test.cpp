// The `xfer batch` manifest reader: both formats, line-numbered errors that do not stop the
// reading, bounded lines, and the checks of an entry's form.
#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "cli/line_reader.h"
#include "cli/manifest.h"

using namespace xfer;
using namespace xfer::cli;

namespace {

struct Read {
  std::vector<ManifestEntry> entries;
  std::vector<ManifestError> errors;
  std::optional<Error> fatal;
  std::optional<ManifestFormat> format;
};

Read read_all(const std::string& text, std::size_t max_line = LineReader::kDefaultMaxLine) {
  auto source = string_source(text);
  ManifestReader reader(*source, max_line);
  Read out;
  while (auto item = reader.next()) {
    if (auto* e = std::get_if<ManifestEntry>(&*item)) out.entries.push_back(*e);
    else out.errors.push_back(std::get<ManifestError>(*item));
  }
  out.fatal = reader.fatal();
  out.format = reader.format();
  return out;
}

const std::string kSha = "sha256:" + std::string(64, 'a');

}  // namespace

TEST_CASE("line reader: CRLF, a last line without newline, lines over the limit skipped", "[cli][manifest]") {
  auto source = string_source("one\r\ntwo\n" + std::string(100, 'x') + "\nthree");
  LineReader reader(*source, 50);
  auto a = reader.next();
  REQUIRE(a);
  CHECK(a->text == "one");
  CHECK(a->number == 1);
  CHECK(reader.next()->text == "two");
  auto long_line = reader.next();
  REQUIRE(long_line);
  CHECK(long_line->too_long);
  CHECK(long_line->text.empty());
  CHECK(long_line->number == 3);
  auto last = reader.next();
  REQUIRE(last);
  CHECK(last->text == "three");
  CHECK(last->number == 4);
  CHECK_FALSE(reader.next());
  CHECK_FALSE(reader.error());
}

TEST_CASE("line reader: a long last line without newline is too long, not held", "[cli][manifest]") {
  auto source = string_source("ok\n" + std::string(10'000, 'y'));
  LineReader reader(*source, 100);
  CHECK(reader.next()->text == "ok");
  auto tail = reader.next();
  REQUIRE(tail);
  CHECK(tail->too_long);
  CHECK_FALSE(reader.next());
}

TEST_CASE("JSON Lines: entries with every field, blank lines skipped", "[cli][manifest]") {
  const auto r = read_all(
      "\xEF\xBB\xBF{\"direction\":\"download\",\"url\":\"https://h/a\",\"file\":\"a\"}\n"
      "\n"
      "   \n"
      "{\"direction\":\"upload\",\"url\":\"http://h/u\",\"file\":\"/tmp/u\",\"checksum\":\"SHA-256:" +
      std::string(64, 'A') + "\",\"priority\":-3,\"headers\":{\"X-A\":\"1\"}}\n"
      "{\"direction\":\"download\",\"url\":\"https://h/b\",\"file\":\"b\",\"headers\":[\"X-B: 2\"],\"checksum\":null}\n");
  CHECK(r.format == ManifestFormat::JsonLines);
  CHECK(r.errors.empty());
  CHECK_FALSE(r.fatal);
  REQUIRE(r.entries.size() == 3);
  CHECK(r.entries[0].line == 1);
  CHECK(r.entries[0].direction == Direction::Download);
  CHECK(r.entries[0].url == "https://h/a");
  CHECK(r.entries[1].line == 4);
  CHECK(r.entries[1].direction == Direction::Upload);
  CHECK(r.entries[1].checksum == "sha256:" + std::string(64, 'a'));
  CHECK(r.entries[1].priority == -3);
  CHECK(r.entries[1].headers == HeaderList{{"X-A", "1"}});
  CHECK(r.entries[2].headers == HeaderList{{"X-B", "2"}});
  CHECK(r.entries[2].checksum.empty());
}

TEST_CASE("JSON Lines: a malformed line is an error with its number, the rest still read", "[cli][manifest]") {
  const std::string good = "{\"direction\":\"download\",\"url\":\"https://h/x\",\"file\":\"x\"}\n";
  const auto r = read_all(good +                                                          // 1
                          "{\"direction\":\"download\",\"url\":\"https://h/y\"\n" +          // 2 truncated
                          "[1,2]\n" +                                                     // 3 not an object
                          "{\"direction\":\"sideways\",\"url\":\"https://h/z\",\"file\":\"z\"}\n" +  // 4
                          "{\"direction\":\"download\",\"url\":\"ftp://h/z\",\"file\":\"z\"}\n" +    // 5
                          "{\"direction\":\"download\",\"url\":\"https://h/z\"}\n" +                 // 6 no file
                          "{\"direction\":\"download\",\"url\":\"https://h/z\",\"file\":\"z\",\"checksum\":\"md5:00\"}\n" +  // 7
                          "{\"direction\":\"download\",\"url\":\"https://h/z\",\"file\":\"z\",\"priority\":1.5}\n" +  // 8
                          "{\"direction\":\"download\",\"url\":\"https://h/z\",\"file\":\"z\",\"dest\":\"q\"}\n" +  // 9
                          "{\"url\":\"https://h/z\",\"file\":\"z\"}\n" +                   // 10 no direction
                          "{\"direction\":\"download\",\"url\":\"https://h/a b\",\"file\":\"z\"}\n" +  // 11
                          "{\"direction\":\"download\",\"url\":\"https://h/z\",\"file\":\"z\",\"priority\":9999999999}\n" +  // 12
                          "{\"direction\":\"download\",\"url\":\"https://h/z\",\"file\":\"z\",\"headers\":{\"Bad Name\":\"v\"}}\n" +  // 13
                          good);                                                          // 14
  REQUIRE(r.entries.size() == 2);
  CHECK(r.entries[0].line == 1);
  CHECK(r.entries[1].line == 14);
  std::vector<std::size_t> lines;
  for (const auto& e : r.errors) lines.push_back(e.line);
  CHECK(lines == std::vector<std::size_t>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13});
  auto reason = [&](std::size_t line) {
    for (const auto& e : r.errors)
      if (e.line == line) return e.reason;
    return std::string();
  };
  CHECK_THAT(reason(2), Catch::Contains("not valid JSON"));
  CHECK_THAT(reason(4), Catch::Contains("sideways"));
  CHECK_THAT(reason(5), Catch::Contains("http:// or https://"));
  CHECK_THAT(reason(6), Catch::Contains("file"));
  CHECK_THAT(reason(7), Catch::Contains("checksum"));
  CHECK_THAT(reason(9), Catch::Contains("unknown key \"dest\""));
  CHECK_THAT(reason(10), Catch::Contains("direction"));
  CHECK_FALSE(r.fatal);
}

TEST_CASE("CSV: a header row, quoted fields with commas, quotes and line breaks", "[cli][manifest]") {
  const auto r = read_all(
      "direction,url,file,checksum\n"
      "download,https://h/a,a.bin,\n"
      "upload , http://h/u , \"/tmp/with, comma\" , " + kSha + "\n"
      "download,https://h/q,\"say \"\"hi\"\"\",\n"
      "download,https://h/n,\"two\nlines\",\n"
      "download,https://h/after,after,\n");
  CHECK(r.format == ManifestFormat::Csv);
  CHECK(r.errors.empty());
  REQUIRE(r.entries.size() == 5);
  CHECK(r.entries[0].line == 2);
  CHECK(r.entries[0].file == "a.bin");
  CHECK(r.entries[1].direction == Direction::Upload);
  CHECK(r.entries[1].url == "http://h/u");
  CHECK(r.entries[1].file == "/tmp/with, comma");
  CHECK(r.entries[1].checksum == kSha);
  CHECK(r.entries[2].file == "say \"hi\"");
  CHECK(r.entries[3].file == "two\nlines");
  CHECK(r.entries[3].line == 5);
  // The record over two lines moves the numbering on by two.
  CHECK(r.entries[4].line == 7);
}

TEST_CASE("CSV: columns in any order, optional priority, bad rows are line errors", "[cli][manifest]") {
  const auto r = read_all(
      "file,direction,url,priority\n"
      "a,download,https://h/a,5\n"
      "b,download,https://h/b\n"          // 3: too few fields
      "c,download,https://h/c,high\n"     // 4: priority
      "\"d\"x,download,https://h/d,1\n"   // 5: text after a quote
      "e,download,https://h/e,\n");
  REQUIRE(r.entries.size() == 2);
  CHECK(r.entries[0].priority == 5);
  CHECK(r.entries[0].file == "a");
  CHECK(r.entries[1].line == 6);
  REQUIRE(r.errors.size() == 3);
  CHECK(r.errors[0].line == 3);
  CHECK_THAT(r.errors[0].reason, Catch::Contains("3 fields, the header names 4"));
  CHECK(r.errors[1].line == 4);
  CHECK(r.errors[2].line == 5);
}

TEST_CASE("a first line that is neither JSON nor a CSV header is fatal", "[cli][manifest]") {
  auto r = read_all("\n\nhttps://example.com/a\nhttps://example.com/b\n");
  CHECK(r.entries.empty());
  REQUIRE(r.fatal);
  CHECK(r.fatal->category() == ErrorCategory::InvalidArgument);
  CHECK_THAT(r.fatal->message(), Catch::Contains("line 3"));

  r = read_all("direction,url\ndownload,https://h/a\n");
  REQUIRE(r.fatal);
  CHECK_THAT(r.fatal->message(), Catch::Contains("lacks"));

  r = read_all("");
  CHECK_FALSE(r.fatal);
  CHECK(r.entries.empty());
}

TEST_CASE("start() refuses what is no manifest before the first entry is taken", "[cli][manifest]") {
  auto bad = string_source("hello world\n");
  ManifestReader refused(*bad);
  REQUIRE(refused.start());
  auto good = string_source("{\"direction\":\"download\",\"url\":\"https://h/a\",\"file\":\"a\"}\n");
  ManifestReader accepted(*good);
  CHECK_FALSE(accepted.start());
  auto item = accepted.next();
  REQUIRE(item);
  CHECK(std::holds_alternative<ManifestEntry>(*item));
  CHECK_FALSE(accepted.next());
}

TEST_CASE("a line over the limit is one error, the lines around it are read", "[cli][manifest]") {
  const std::string good = "{\"direction\":\"download\",\"url\":\"https://h/x\",\"file\":\"x\"}\n";
  const auto r = read_all(good + "{\"direction\":\"download\",\"url\":\"https://h/" + std::string(500, 'p') +
                              "\",\"file\":\"y\"}\n" + good,
                          200);
  REQUIRE(r.entries.size() == 2);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 2);
  CHECK_THAT(r.errors[0].reason, Catch::Contains("longer than"));
}
