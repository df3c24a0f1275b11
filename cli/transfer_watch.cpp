#include "cli/transfer_watch.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include "cli/exit_codes.h"
#include "cli/live_display.h"
#include "cli/options.h"

namespace xfer::cli {
namespace {

// What the person watching sees. One transfer: one line redrawn in place, as curl draws it (and
// nothing off a terminal). Several: the batch's live block (cli/live_display), and a summary line
// when it goes.
class WatchView {
 public:
  virtual ~WatchView() = default;
  virtual void started(TransferId id, const std::string& name) = 0;
  virtual void progress(TransferId id, std::uint64_t bytes, std::optional<std::uint64_t> total) = 0;
  virtual void waiting(TransferId id, const std::string& name,
                       std::optional<std::chrono::system_clock::time_point> at, const std::string& reason) = 0;
  virtual void completed(TransferId id, std::uint64_t bytes) = 0;
  virtual void failed(TransferId id) = 0;
  // A line of its own (a retry, a warning) that stays.
  virtual void note(const std::string& text) = 0;
  virtual void tick() = 0;
  virtual void close() = 0;
};

class ProgressLine final : public WatchView {
 public:
  ProgressLine() : tty_(::isatty(STDERR_FILENO) == 1) {}

  void started(TransferId, const std::string&) override {}
  void progress(TransferId, std::uint64_t bytes, std::optional<std::uint64_t> size) override {
    bytes_ = bytes;
    size_ = size;
  }
  void waiting(TransferId, const std::string&, std::optional<std::chrono::system_clock::time_point>,
               const std::string&) override {}
  void completed(TransferId, std::uint64_t) override { done_ = true; }
  void failed(TransferId) override {}

  void tick() override {
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    const double secs = std::chrono::duration<double>(now - last_).count();
    const double speed = last_bytes_ <= bytes_ && secs > 0 ? (bytes_ - last_bytes_) / secs : 0;
    last_ = now;
    last_bytes_ = bytes_;
    std::string line = fmt::format("{}/1 done  {}", done_ ? 1 : 0, human_bytes(bytes_));
    if (size_ && *size_ > 0)
      line += fmt::format(" / {} ({:.0f}%)", human_bytes(*size_), 100.0 * bytes_ / *size_);
    line += fmt::format("  {}/s", human_bytes(speed));
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    drawn_ = true;
  }

  void close() override {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }

  void note(const std::string& text) override {
    close();
    std::fprintf(stderr, "xfer: %s\n", text.c_str());
    last_ = {};
  }

 private:
  bool tty_;
  bool drawn_ = false;
  bool done_ = false;
  std::uint64_t bytes_ = 0;
  std::optional<std::uint64_t> size_;
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t last_bytes_ = 0;
};

class BlockView final : public WatchView {
 public:
  BlockView(Engine& engine, std::size_t total, const std::string& label)
      : total_(total), label_(label), live_(stderr_display_options(engine, label)) {
    for (std::size_t i = 0; i < total; ++i) live_.queued();
    live_.manifest_read();
  }

  void started(TransferId id, const std::string& name) override { live_.started(id, name); }
  void progress(TransferId id, std::uint64_t bytes, std::optional<std::uint64_t> total) override {
    live_.progress(id, bytes, total);
  }
  void waiting(TransferId id, const std::string& name, std::optional<std::chrono::system_clock::time_point> at,
               const std::string& reason) override {
    live_.waiting(id, name, at, reason);
  }
  void completed(TransferId id, std::uint64_t bytes) override { live_.completed(id, bytes); }
  void failed(TransferId id) override { live_.failed(id); }
  void note(const std::string& text) override { live_.note("xfer: " + text); }
  void tick() override { live_.tick(); }
  void close() override {
    live_.close();
    // The block goes; on a terminal a line stays to say what it showed. (A log had its plain
    // lines, and failures are said by the caller either way.)
    if (!live_.terminal() || closed_) return;
    closed_ = true;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double bytes = static_cast<double>(live_.bytes_done());
    std::string line = fmt::format("xfer: {}: {} of {} done, {} in {:.1f} s", label_, live_.done(), total_,
                                   human_bytes(bytes), secs);
    if (secs > 0) line += fmt::format(" ({}/s)", human_bytes(bytes / secs));
    if (live_.failures() > 0) line += fmt::format(", {} did not finish", live_.failures());
    std::fprintf(stderr, "%s\n", line.c_str());
  }

 private:
  std::size_t total_;
  std::string label_;
  LiveDisplay live_;
  bool closed_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

std::string display_name(Engine& engine, TransferId id) {
  auto st = engine.status(id);
  if (!st || st->destination.empty()) return fmt::format("transfer {}", id);
  const auto slash = st->destination.rfind('/');
  return slash == std::string::npos ? st->destination : st->destination.substr(slash + 1);
}

}  // namespace

LiveDisplay::Options stderr_display_options(Engine& engine, const std::string& label) {
  LiveDisplay::Options o;
  o.terminal = ::isatty(STDERR_FILENO) == 1;
  o.width = [] { return terminal_width(STDERR_FILENO); };
  o.protocol_of = [e = &engine](TransferId id) {
    auto st = e->status(id);
    return st ? st->protocol : std::string();
  };
  o.label = label;
  return o;
}

WatchOutcome watch_transfers(Engine& engine, std::set<TransferId> ids, bool ack_others,
                             const std::function<bool()>& stop, const std::string& label,
                             const std::function<void(const Event&)>& on_completed) {
  WatchOutcome out;
  // With several transfers the last line must say which one failed.
  const bool several = ids.size() > 1;
  std::unique_ptr<WatchView> view;
  if (ids.size() > 1) view = std::make_unique<BlockView>(engine, ids.size(), label);
  else view = std::make_unique<ProgressLine>();
  // Named once, when first seen moving (a status lookup each time would cost a journal read).
  std::map<TransferId, std::string> names;
  auto name_of = [&](TransferId id) -> const std::string& {
    auto it = names.find(id);
    if (it == names.end()) {
      it = names.emplace(id, display_name(engine, id)).first;
      view->started(id, it->second);
    }
    return it->second;
  };
  // The exit code comes from the error's category, never from its text.
  auto record_failure = [&](int exit_code, const std::string& reason) {
    ++out.failed;
    if (out.exit_code == 0) {
      out.exit_code = exit_code;
      out.reason = reason;
    }
  };
  auto record_event_failure = [&](const Event& event) {
    if (event.error) {
      record_failure(exit_code_for(event.error->category()),
                     several ? fmt::format("{}: {}", display_name(engine, event.id), event.message)
                             : event.message);
    } else if (event.state == TransferState::Paused) {
      // Paused by a request, not by a failure: it continues with `xfer resume`.
      record_failure(kExitInterrupted, fmt::format("paused: transfer {} was paused", event.id));
    } else {
      // An event of a kind that always carries its error: a bug, said as such.
      record_failure(kExitInternal, fmt::format("internal: transfer {} stopped without an error ({})",
                                                event.id, event.message));
    }
  };
  // Events are taken in bursts and their terminal ones acknowledged in one synced journal
  // write, so thousands of small files do not cost a disk flush each.
  std::vector<Event> burst;
  std::vector<Event> to_ack;
  // Completions an earlier run left unacknowledged were queued when the engine opened; with
  // ack_others they are taken and acknowledged even when nothing else is left to wait for.
  bool draining = ack_others;
  while ((!ids.empty() || draining) && !stop()) {
    view->tick();
    to_ack.clear();
    // Lingering gathers several terminal events into one acknowledgement; with one transfer of
    // ours left there is nothing to gather, and it only delayed the exit (7 ms of a 21 ms put).
    burst = engine.next_events(kEventBurst,
                               ids.empty() ? std::chrono::milliseconds(0)
                                           : std::chrono::milliseconds(100),
                               ids.size() > 1 ? kEventLinger : std::chrono::milliseconds(0));
    if (burst.empty()) {
      if (ids.empty()) draining = false;
      continue;
    }
    for (const auto& event : burst)
      if (event.terminal() && (ack_others || ids.contains(event.id))) to_ack.push_back(event);
    if (auto r = engine.ack(to_ack); !r)
      record_failure(exit_code_for(r.error().category()), r.error().describe());
    for (const auto& event : burst) {
      const bool mine = ids.contains(event.id);
      if (event.terminal()) {
        if (!mine) continue;
        ids.erase(event.id);
        if (event.kind == EventKind::Completed) {
          ++out.completed;
          view->completed(event.id, event.bytes);
          if (on_completed) on_completed(event);
        } else if (event.kind == EventKind::Cancelled) {
          record_failure(kExitCancelled, fmt::format("cancelled: transfer {} was cancelled", event.id));
          view->failed(event.id);
        } else {
          record_event_failure(event);
          view->failed(event.id);
        }
        continue;
      }
      if (!mine) continue;
      if (event.kind == EventKind::Progress) {
        (void)name_of(event.id);
        view->progress(event.id, event.bytes, event.total);
      }
      // Active again after a retry's wait: back among the rows.
      if (event.kind == EventKind::StateChanged && event.state == TransferState::Active)
        view->started(event.id, name_of(event.id));
      // One line per retry, terminal or not: a silent wait looks like a hang.
      if (event.kind == EventKind::StateChanged && event.state == TransferState::Waiting) {
        const std::string& name = name_of(event.id);
        auto st = engine.status(event.id);
        view->waiting(event.id, name, st ? st->next_attempt_at : std::nullopt,
                      event.error ? event.error->message() : event.message);
        view->note(fmt::format("{}: {}", name, event.message));
      }
      // Bytes sent or written again are said, never hidden (a plain PUT replayed, an upload the
      // server lost, a representation that changed).
      if (event.kind == EventKind::Restarted) view->note(fmt::format("{}: {}", name_of(event.id), event.message));
      if (event.kind == EventKind::StateChanged && event.state == TransferState::Paused) {
        ids.erase(event.id);
        record_event_failure(event);
        view->failed(event.id);
      }
    }
  }
  view->close();
  return out;
}

}  // namespace xfer::cli
