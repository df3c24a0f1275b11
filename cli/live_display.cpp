#include "cli/live_display.h"

#include <algorithm>
#include <cmath>
#include <deque>

#include <fmt/format.h>
#include <sys/ioctl.h>

#include "cli/options.h"

namespace xfer::cli {
namespace {

std::string duration_text(double secs) {
  if (!(secs >= 0) || secs > 99 * 3600) return "?";
  const auto s = static_cast<long long>(std::llround(secs));
  if (s < 60) return fmt::format("{} s", s);
  if (s < 3600) return fmt::format("{} min {:02} s", s / 60, s % 60);
  return fmt::format("{} h {:02} min", s / 3600, (s % 3600) / 60);
}

constexpr std::chrono::seconds kWindow{5};

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Names and reasons come from manifests and servers: no control byte reaches the terminal
// (an escape sequence in a file name must not move the cursor or retitle the window).
std::string printable(const std::string& text) {
  std::string out = text;
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

}  // namespace

int terminal_width(int fd) {
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

std::size_t display_width(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char c : text)
    if (!continuation(c)) ++n;
  return n;
}

std::string fit(const std::string& text, std::size_t width) {
  if (display_width(text) <= width) return text;
  if (width == 0) return "";
  // Keep width - 1 columns, then the ellipsis; never split a UTF-8 sequence.
  std::size_t cols = 0, i = 0;
  while (i < text.size()) {
    if (!continuation(static_cast<unsigned char>(text[i]))) {
      if (cols == width - 1) break;
      ++cols;
    }
    ++i;
  }
  return text.substr(0, i) + "\u2026";
}

LiveDisplay::LiveDisplay(Options options) : options_(std::move(options)) {}

void LiveDisplay::queued() { ++queued_; }

void LiveDisplay::manifest_read() { manifest_read_ = true; }

void LiveDisplay::started(TransferId id, const std::string& name) {
  waiting_.erase(id);
  auto& a = active_[id];
  a.name = printable(name);
  a.anchor = Clock::now();
  a.anchor_bytes = a.bytes;
}

void LiveDisplay::progress(TransferId id, std::uint64_t bytes, std::optional<std::uint64_t> total) {
  const auto it = active_.find(id);
  if (it == active_.end()) return;
  auto& a = it->second;
  const auto now = Clock::now();
  const double dt = std::chrono::duration<double>(now - a.anchor).count();
  if (dt > 0.5) a.rate = bytes >= a.anchor_bytes ? (bytes - a.anchor_bytes) / dt : 0;
  if (now - a.anchor > kWindow) {
    a.anchor = now;
    a.anchor_bytes = bytes;
  }
  a.bytes = bytes;
  a.total = total;
}

void LiveDisplay::waiting(TransferId id, const std::string& name,
                          std::optional<std::chrono::system_clock::time_point> at, const std::string& reason) {
  active_.erase(id);
  waiting_[id] = Waiting{printable(name), at, printable(reason)};
}

void LiveDisplay::completed(TransferId id, std::uint64_t bytes) {
  active_.erase(id);
  waiting_.erase(id);
  ++done_;
  finished_bytes_ += bytes;
}

void LiveDisplay::failed(TransferId id) {
  active_.erase(id);
  waiting_.erase(id);
  ++failed_;
}

void LiveDisplay::note(const std::string& line) {
  if (closed_ || !options_.terminal) {
    std::fprintf(options_.out, "%s\n", line.c_str());
    return;
  }
  erase();
  std::fprintf(options_.out, "%s\n", printable(line).c_str());
  // A burst of notes (a manifest full of bad lines) must not redraw the block after each one:
  // it comes back at the next tick that is due.
  const auto now = Clock::now();
  if (now - last_draw_ >= options_.redraw_every) draw(now);
  else std::fflush(options_.out);
}

void LiveDisplay::tick() {
  if (closed_) return;
  const auto now = Clock::now();
  if (!options_.terminal) {
    if (now - last_plain_ < options_.plain_every) return;
    last_plain_ = now;
    draw(now);  // updates the rates too
    return;
  }
  if (now - last_draw_ < options_.redraw_every) return;
  erase();
  draw(now);
}

void LiveDisplay::close() {
  if (closed_) return;
  if (options_.terminal) erase();
  closed_ = true;
}

void LiveDisplay::erase() {
  if (drawn_lines_ == 0) return;
  // Back to the block's first line, then clear everything below it.
  std::fprintf(options_.out, "\r\x1b[%zuA\x1b[J", drawn_lines_);
  drawn_lines_ = 0;
}

std::uint64_t LiveDisplay::moved() const {
  std::uint64_t n = finished_bytes_;
  for (const auto& [id, a] : active_) n += a.bytes;
  return n;
}

void LiveDisplay::draw(Clock::time_point now) {
  const std::uint64_t moved = this->moved();
  samples_.push_back({now, moved, done_});
  // Keep one sample at least kWindow old, if there is one, to measure from.
  while (samples_.size() > 2 && now - samples_[1].at >= kWindow) samples_.pop_front();
  const auto& from = samples_.front();
  const double dt = std::chrono::duration<double>(now - from.at).count();
  if (dt >= 0.5) {
    rate_ = moved >= from.bytes ? (moved - from.bytes) / dt : 0;
    files_rate_ = done_ >= from.done ? (done_ - from.done) / dt : 0;
  }
  last_draw_ = now;
  if (!options_.terminal) {
    const std::size_t waiting_count = waiting_.size();
    std::fprintf(options_.out, "xfer: %s: %zu done, %zu failed, %zu retrying, %zu active, %s moved at %s/s\n",
                 options_.label.c_str(), done_, failed_, waiting_count, active_.size(), human_bytes(static_cast<double>(moved)).c_str(),
                 human_bytes(rate_).c_str());
    return;
  }
  const int width = options_.width ? options_.width() : 80;
  const auto lines = render(width);
  for (const auto& line : lines) std::fprintf(options_.out, "%s\n", line.c_str());
  std::fflush(options_.out);
  drawn_lines_ = lines.size();
}

std::vector<std::string> LiveDisplay::render(int width) const {
  // One column short of the edge: a line exactly as wide as the terminal wraps on some.
  const std::size_t cols = static_cast<std::size_t>(std::max(width, 20) - 1);
  std::vector<std::string> lines;

  const std::size_t settled = done_ + failed_;
  const std::size_t pending = queued_ > settled ? queued_ - settled : 0;
  const std::size_t not_started =
      pending > active_.size() + waiting_.size() ? pending - active_.size() - waiting_.size() : 0;
  std::string overall = fmt::format("{}: {} done of {}{}, {}, {}/s", options_.label, done_, std::max(queued_, settled),
                                    manifest_read_ ? "" : " so far", human_bytes(static_cast<double>(moved())),
                                    human_bytes(rate_));
  if (manifest_read_ && pending > 0) {
    // By bytes once only known-size transfers are left, and by the recent file rate.
    std::uint64_t left = 0;
    bool sized = not_started == 0 && waiting_.empty();
    for (const auto& [id, a] : active_) {
      if (!a.total) sized = false;
      else if (*a.total > a.bytes) left += *a.total - a.bytes;
    }
    // The later of the two where both exist: nearly complete transfers that stall (a rate
    // limit, a slow server's last bytes) make the byte estimate too hopeful.
    std::optional<double> eta;
    if (sized && rate_ > 0) eta = left / rate_;
    if (files_rate_ > 0) eta = std::max(eta.value_or(0.0), pending / files_rate_);
    if (eta) overall += ", ETA " + duration_text(*eta);
  }
  lines.push_back(fit(overall, cols));

  std::size_t shown = 0;
  for (const auto& [id, a] : active_) {
    if (shown == options_.max_rows) break;
    ++shown;
    const std::string proto = options_.protocol_of ? options_.protocol_of(id) : std::string();
    std::string amount = a.total ? fmt::format("{} of {}", human_bytes(static_cast<double>(a.bytes)),
                                               human_bytes(static_cast<double>(*a.total)))
                                 : human_bytes(static_cast<double>(a.bytes));
    const std::string tail = fmt::format("  {:<8} {:>21} {:>11}", proto.empty() ? "-" : proto, amount,
                                         human_bytes(a.rate) + "/s");
    // The name takes what the numbers leave, at least 12 columns.
    const std::size_t tail_cols = display_width(tail);
    const std::size_t name_cols = cols > tail_cols + 4 ? std::max<std::size_t>(cols - tail_cols - 2, 12) : 12;
    std::string name = fit(a.name, name_cols);
    name.append(name_cols > display_width(name) ? name_cols - display_width(name) : 0, ' ');
    lines.push_back(fit("  " + name + tail, cols));
  }
  if (active_.size() > shown) lines.push_back(fit(fmt::format("  ... and {} more active", active_.size() - shown), cols));

  std::string counts = fmt::format("{} active, {} failed, {} retrying", active_.size(), failed_, waiting_.size());
  const Waiting* next = nullptr;
  for (const auto& [id, w] : waiting_)
    if (w.at && (!next || !next->at || *w.at < *next->at)) next = &w;
  if (!next && !waiting_.empty()) next = &waiting_.begin()->second;
  if (next) {
    const auto wall_now = std::chrono::system_clock::now();
    std::string when = next->at ? duration_text(std::max(0.0, std::chrono::duration<double>(*next->at - wall_now).count()))
                                : std::string("soon");
    counts += fmt::format(" (next in {}: {}: {})", when, next->name, next->reason);
  }
  counts += fmt::format(", {} waiting to start", not_started);
  lines.push_back(fit(counts, cols));
  return lines;
}

}  // namespace xfer::cli
