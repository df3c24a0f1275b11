// LiveDisplay: what a person watching `xfer batch` (or a `get`/`put`/`resume` of several
// transfers) sees while it runs.
//
// On a terminal: a block redrawn in place at most five times a second — an overall line (files
// done, bytes, throughput, and an ETA once the manifest is read and the rest can be estimated),
// one line per active transfer (name, protocol, bytes, rate; as many as fit, the rest counted),
// and the counts of the others (failed, retrying with the next attempt's time, queued). Every
// line is cut to the terminal's width, so nothing wraps and the redraw never scrolls. Notes
// (a retry's reason, a restart, an invalid manifest line) are printed above the block and stay.
// Elsewhere (a pipe, a file): no redraws; notes as lines, and one plain status line every
// `plain_every` (10 s), so a log shows that the batch is alive without flooding.
//
// Memory: the active transfers and those waiting for a retry, never the whole manifest.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <xfer/ids.h>

namespace xfer::cli {

class LiveDisplay {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::FILE* out = stderr;
    bool terminal = false;
    // Columns of the terminal, asked at every redraw (a window may be resized).
    std::function<int()> width;
    // The protocol carrying a transfer ("h2", "h3", "http/1.1"), asked only for the rows shown.
    std::function<std::string(TransferId)> protocol_of;
    std::chrono::milliseconds redraw_every{200};
    std::chrono::milliseconds plain_every{10'000};
    std::size_t max_rows = 8;  // active transfers listed, at most
    // The verb the overall line and the plain lines are said as ("batch: 3 done of 10").
    std::string label = "batch";
  };

  explicit LiveDisplay(Options options);

  void queued();
  void manifest_read();  // every entry is known: an ETA can be given
  void started(TransferId id, const std::string& name);
  void progress(TransferId id, std::uint64_t bytes, std::optional<std::uint64_t> total);
  void waiting(TransferId id, const std::string& name, std::optional<std::chrono::system_clock::time_point> at,
               const std::string& reason);
  void completed(TransferId id, std::uint64_t bytes);
  void failed(TransferId id);
  // A line that stays (above the block on a terminal).
  void note(const std::string& line);
  // Redraws when one is due (call it often: it costs nothing when none is).
  void tick();
  // Erases the block for good (before the summary).
  void close();
  // Counts so far, for a summary.
  std::size_t done() const { return done_; }
  std::size_t failures() const { return failed_; }
  bool terminal() const { return options_.terminal; }
  std::uint64_t bytes_done() const { return finished_bytes_; }

  // What the block would show now, one string per line, cut to `width` columns (for tests).
  std::vector<std::string> render(int width) const;

 private:
  struct Active {
    std::string name;
    std::uint64_t bytes = 0;
    std::optional<std::uint64_t> total;
    double rate = 0;  // bytes per second over the last few seconds
    // Where the rate is measured from: moved forward once it is kWindow old.
    Clock::time_point anchor{};
    std::uint64_t anchor_bytes = 0;
  };
  struct Waiting {
    std::string name;
    std::optional<std::chrono::system_clock::time_point> at;
    std::string reason;
  };
  void erase();
  void draw(Clock::time_point now);
  // Bytes of the completed transfers plus what the active ones moved.
  std::uint64_t moved() const;

  Options options_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_draw_{};
  Clock::time_point last_plain_ = Clock::now();
  std::size_t drawn_lines_ = 0;
  bool closed_ = false;
  bool manifest_read_ = false;

  std::map<TransferId, Active> active_;
  std::map<TransferId, Waiting> waiting_;
  std::size_t queued_ = 0, done_ = 0, failed_ = 0;
  std::uint64_t finished_bytes_ = 0;  // of the completed transfers
  // Overall throughput over the last kWindow: bytes moved and files done, sampled at each
  // redraw. (Progress arrives in steps, a second or more apart per transfer; a window this long
  // keeps the rate and the ETA from jumping between each step and zero.)
  struct Sample {
    Clock::time_point at;
    std::uint64_t bytes;
    std::size_t done;
  };
  std::deque<Sample> samples_;
  double rate_ = 0;
  double files_rate_ = 0;
};

// Columns of the terminal on `fd` (80 when it is none or does not say).
int terminal_width(int fd);

// Display width of `text` in columns (UTF-8: one per code point; invalid bytes one each).
std::size_t display_width(const std::string& text);
// `text` cut to at most `width` columns, ending in "…" when something was cut.
std::string fit(const std::string& text, std::size_t width);

}  // namespace xfer::cli
