// LiveDisplay's lines on their own: cut to any width without splitting UTF-8, no control byte
// from a file name reaching the terminal, the counts and the next retry said.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "cli/live_display.h"

using namespace xfer;
using namespace xfer::cli;

TEST_CASE("fit cuts to a width in columns and never splits a UTF-8 sequence", "[cli][display]") {
  CHECK(fit("short", 10) == "short");
  CHECK(fit("exactly10!", 10) == "exactly10!");
  CHECK(fit("a longer text", 6) == "a lon\u2026");
  CHECK(display_width(fit("a longer text", 6)) == 6);
  const std::string greek = "\u03b1\u03b2\u03b3\u03b4\u03b5\u03b6";  // six two-byte letters
  CHECK(display_width(greek) == 6);
  CHECK(fit(greek, 4) == "\u03b1\u03b2\u03b3\u2026");
  CHECK(fit("x", 0).empty());
}

TEST_CASE("the live block fits every width, lists active transfers and says what waits",
          "[cli][display]") {
  LiveDisplay::Options options;
  options.protocol_of = [](TransferId id) { return id % 2 ? std::string("h2") : std::string("http/1.1"); };
  options.max_rows = 3;
  LiveDisplay display(options);
  for (int i = 0; i < 10; ++i) display.queued();
  display.manifest_read();
  display.started(1, std::string("a-very-long-file-name-that-will-not-fit-") + std::string(60, 'x') + ".bin");
  display.started(2, "escape\x1b]0;owned\x07name.bin");
  display.started(3, "three.bin");
  display.started(4, "four.bin");
  display.progress(1, 1000, 5000);
  display.waiting(5, "five.bin", std::chrono::system_clock::now() + std::chrono::seconds(4),
                  "connection refused");
  display.completed(6, 4096);
  display.failed(7);

  for (int width : {20, 40, 80, 200, 1000}) {
    CAPTURE(width);
    const auto lines = display.render(width);
    REQUIRE(lines.size() == 1 + 3 + 1 + 1);  // overall, 3 rows, "... more", counts
    for (const auto& line : lines) {
      INFO(line);
      CHECK(display_width(line) < static_cast<std::size_t>(std::max(width, 20)));
      for (unsigned char c : line) CHECK(c >= 0x20);  // no control byte from a name
    }
    if (width >= 40) {
      CHECK(lines[0].find("1 done of 10") != std::string::npos);
      CHECK(lines[4].find("1 more active") != std::string::npos);
    }
    if (width >= 200) {
      CHECK(lines[1].find("h2") != std::string::npos);
      CHECK(lines[5].find("4 active, 1 failed, 1 retrying") != std::string::npos);
      CHECK(lines[5].find("five.bin: connection refused") != std::string::npos);
      CHECK(lines[5].find("3 waiting to start") != std::string::npos);
    }
  }
}
