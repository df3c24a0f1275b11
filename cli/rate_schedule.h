// A --limit-rate value: one rate ("1M", "off") or a schedule of rates by time of day, optionally
// by day of the week, as operators write them for links that are busy in office hours:
//
//   "08:00,512K 18:00,10M 23:00,off"       every day
//   "Mon-08:00,1M Sat-00:00,off"           every week (Mon..Sun)
//
// From each entry's time on its rate holds until the next entry's time; the last entry of the
// day (or week) holds until the first one's time comes round again. Entries are all daily or all
// weekly (a mixture has no one obvious meaning). Times are local, evaluated anew at each change,
// so a clock or daylight-saving jump costs at most the wait to the next re-evaluation.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <xfer/error.h>

namespace xfer::cli {

class RateSchedule {
 public:
  struct Entry {
    std::int64_t start = 0;  // seconds into the day or week (weeks start Monday 00:00)
    std::uint64_t rate = 0;  // bytes per second, 0 = unlimited
  };
  struct Now {
    std::uint64_t rate = 0;
    // How long `rate` holds; nullopt: for good (a single rate).
    std::optional<std::chrono::seconds> holds_for;
  };

  // "1M", "0", "off" or a schedule (above); the message says what is wrong and where.
  static Result<RateSchedule> parse(const std::string& text);
  static RateSchedule constant(std::uint64_t rate);

  // The rate in force at local time `local` and how long it holds.
  Now at(const std::tm& local) const;
  Now now() const;

  const std::string& text() const { return text_; }
  bool unlimited_always() const { return entries_.size() == 1 && entries_[0].rate == 0; }

 private:
  std::vector<Entry> entries_;  // sorted by start, never empty
  bool weekly_ = false;
  std::string text_;  // as given, for `xfer limit` to show
};

}  // namespace xfer::cli
