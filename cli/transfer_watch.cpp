#include "cli/transfer_watch.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include "cli/exit_codes.h"
#include "cli/options.h"

namespace xfer::cli {
namespace {

class ProgressLine {
 public:
  explicit ProgressLine(std::size_t total) : total_(total), tty_(::isatty(STDERR_FILENO) == 1) {}

  void update(TransferId id, std::uint64_t bytes, std::optional<std::uint64_t> size) {
    auto& entry = progress_[id];
    entry.first = bytes;
    entry.second = size;
  }

  void draw(std::size_t done) {
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    std::uint64_t bytes = 0, size = 0;
    bool sizes_known = true;
    for (const auto& [id, p] : progress_) {
      bytes += p.first;
      if (p.second) size += *p.second; else sizes_known = false;
    }
    const double secs = std::chrono::duration<double>(now - last_).count();
    const double speed = last_bytes_ <= bytes && secs > 0 ? (bytes - last_bytes_) / secs : 0;
    last_ = now;
    last_bytes_ = bytes;
    std::string line = fmt::format("{}/{} done  {}", done, total_, human_bytes(bytes));
    if (sizes_known && size > 0)
      line += fmt::format(" / {} ({:.0f}%)", human_bytes(size), 100.0 * bytes / size);
    line += fmt::format("  {}/s", human_bytes(speed));
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    drawn_ = true;
  }

  void finish() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }

  // A line of its own (a retry, a warning); the progress line is redrawn after it.
  void note(const std::string& text) {
    finish();
    std::fprintf(stderr, "xfer: %s\n", text.c_str());
    last_ = {};
  }

 private:
  std::size_t total_;
  bool tty_;
  bool drawn_ = false;
  std::map<TransferId, std::pair<std::uint64_t, std::optional<std::uint64_t>>> progress_;
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t last_bytes_ = 0;
};

std::string display_name(Engine& engine, TransferId id) {
  auto st = engine.status(id);
  if (!st || st->destination.empty()) return fmt::format("transfer {}", id);
  const auto slash = st->destination.rfind('/');
  return slash == std::string::npos ? st->destination : st->destination.substr(slash + 1);
}

}  // namespace

WatchOutcome watch_transfers(Engine& engine, std::set<TransferId> ids, bool ack_others,
                             const std::function<bool()>& stop) {
  WatchOutcome out;
  ProgressLine progress(ids.size());
  const std::size_t total = ids.size();
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
      record_failure(exit_code_for(event.error->category()), event.message);
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
    progress.draw(total - ids.size());
    to_ack.clear();
    burst = engine.next_events(kEventBurst,
                               ids.empty() ? std::chrono::milliseconds(0)
                                           : std::chrono::milliseconds(100),
                               kEventLinger);
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
        } else if (event.kind == EventKind::Cancelled) {
          record_failure(kExitCancelled, fmt::format("cancelled: transfer {} was cancelled", event.id));
        } else {
          record_event_failure(event);
        }
        continue;
      }
      if (!mine) continue;
      if (event.kind == EventKind::Progress) progress.update(event.id, event.bytes, event.total);
      // One line per retry, terminal or not: a silent wait looks like a hang.
      if (event.kind == EventKind::StateChanged && event.state == TransferState::Waiting)
        progress.note(fmt::format("{}: {}", display_name(engine, event.id), event.message));
      // Bytes sent or written again are said, never hidden (a plain PUT replayed, an upload the
      // server lost, a representation that changed).
      if (event.kind == EventKind::Restarted)
        progress.note(fmt::format("{}: {}", display_name(engine, event.id), event.message));
      if (event.kind == EventKind::StateChanged && event.state == TransferState::Paused) {
        ids.erase(event.id);
        record_event_failure(event);
      }
    }
  }
  progress.finish();
  return out;
}

}  // namespace xfer::cli
