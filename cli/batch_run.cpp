#include "cli/batch_run.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cli/digest_set.h"
#include "cli/options.h"
#include "cli/transfer_watch.h"

namespace xfer::cli {
namespace {

std::uint64_t path_key(Direction direction, const std::string& path) {
  std::string key = direction == Direction::Download ? "d" : "u";
  key.push_back('\0');
  key += path;
  return std::hash<std::string>{}(key);
}

// What the journal held when the batch began, by direction and local path, at 16 bytes a
// transfer: enough to find the few candidates an entry may be, whose status then decides.
class JournalIndex {
 public:
  Result<void> load(Engine& engine) {
    auto paths = engine.journaled_paths();
    if (!paths) return std::unexpected(paths.error());
    keys_.reserve(paths->size());
    for (const auto& p : *paths) keys_.emplace_back(path_key(p.direction, p.path), p.id);
    std::sort(keys_.begin(), keys_.end());
    return {};
  }
  std::vector<TransferId> candidates(Direction direction, const std::string& path) const {
    const auto key = path_key(direction, path);
    std::vector<TransferId> out;
    auto it = std::lower_bound(keys_.begin(), keys_.end(), std::make_pair(key, TransferId{0}));
    for (; it != keys_.end() && it->first == key; ++it) out.push_back(it->second);
    // The newest first: an entry run, failed and run again is the same entry.
    std::reverse(out.begin(), out.end());
    return out;
  }

 private:
  std::vector<std::pair<std::uint64_t, TransferId>> keys_;
};

// The checks every entry passes before it may be transferred, shared with --dry-run: its form
// (the reader), the file system (prepare_entry), and the manifest itself (an entry seen
// before; two downloads into one file).
class Screen {
 public:
  explicit Screen(const BatchDefaults& defaults) : defaults_(defaults) {}

  std::optional<PreparedEntry> admit(ManifestItem item, BatchReport& report) {
    if (auto* error = std::get_if<ManifestError>(&item)) {
      report.invalid(error->line, error->reason);
      return std::nullopt;
    }
    const auto& entry = std::get<ManifestEntry>(item);
    auto prepared = prepare_entry(entry, defaults_);
    if (!prepared) {
      report.invalid(entry.line, prepared.error().message(), std::string(to_string(prepared.error().category())));
      return std::nullopt;
    }
    const auto line = static_cast<std::uint32_t>(entry.line);
    if (auto first = identities_.insert(prepared->identity, line)) {
      report.duplicate(entry.line, *first);
      return std::nullopt;
    }
    if (entry.direction == Direction::Download) {
      if (auto first = destinations_.insert(prepared->info.path, line)) {
        report.invalid(entry.line, fmt::format("{} is also the destination of line {}", prepared->info.path, *first));
        return std::nullopt;
      }
    }
    return std::move(*prepared);
  }

 private:
  const BatchDefaults& defaults_;
  DigestSet identities_;
  DigestSet destinations_;
};

class BatchRun {
 public:
  BatchRun(Engine& engine, ManifestReader& manifest, BatchReport& report, const BatchSettings& settings)
      : engine_(engine), manifest_(manifest), report_(report), settings_(settings), screen_(settings.defaults) {}

  int run() {
    if (auto r = index_.load(engine_); !r) {
      (void)engine_.shutdown();
      return report_.finish(false, false, r.error().with_context("reading the journal"));
    }
    if (settings_.source) {
      settings_.source->set_idle([this] {
        enqueue(pending_);
        drain_events(std::chrono::milliseconds(0));
      });
    }
    while (!stopped() && !broken_ && !cut_off_) {
      if (!manifest_done_ && inflight_.size() < settings_.window) fill();
      if (manifest_done_ && inflight_.empty()) break;
      drain_events(std::chrono::milliseconds(100));
    }
    if (settings_.source) settings_.source->set_idle({});
    const bool interrupted = stopped() || cut_off_;
    // Stops what still runs at a checkpoint: `xfer resume` continues it.
    auto shut = engine_.shutdown();
    if (!shut && !fatal_) fatal_ = shut.error();
    return report_.finish(interrupted, false, fatal_);
  }

 private:
  bool stopped() const { return settings_.stop && settings_.stop(); }

  // A cut-off reached: said once, and the loop ends as on an interrupt.
  void check_cut_offs() {
    if (cut_off_) return;
    if (settings_.max_duration && std::chrono::steady_clock::now() - started_at_ >= *settings_.max_duration) {
      cut_off_ = true;
      report_.cut_off(fmt::format("--max-duration {} s reached", settings_.max_duration->count() / 1000.0));
      return;
    }
    if (settings_.max_bytes) {
      std::uint64_t moved = completed_bytes_;
      for (const auto& [id, t] : inflight_) moved += t.bytes;
      if (moved >= *settings_.max_bytes) {
        cut_off_ = true;
        report_.cut_off(fmt::format("--max-transfer reached ({} moved)", human_bytes(static_cast<double>(moved))));
      }
    }
  }

  void fill() {
    auto& pending = pending_;
    while (inflight_.size() + pending.size() < 2 * settings_.window && !stopped() && !cut_off_) {
      auto item = manifest_.next();
      if (!item) {
        manifest_done_ = true;
        report_.manifest_read();
        if (manifest_.fatal()) fatal_ = *manifest_.fatal();
        break;
      }
      auto prepared = screen_.admit(std::move(*item), report_);
      if (!prepared || continue_journaled(*prepared)) continue;
      pending.push_back(std::move(*prepared));
      if (pending.size() >= settings_.window) enqueue(pending);
    }
    enqueue(pending);
  }

  // An entry the journal already holds is not enqueued again. True when it was taken care of.
  bool continue_journaled(const PreparedEntry& entry) {
    const auto& info = entry.info;
    for (TransferId id : index_.candidates(info.direction, info.path)) {
      auto st = engine_.status(id);
      if (!st || st->direction != info.direction || st->destination != info.path ||
          st->url != url_without_userinfo(info.url))
        continue;
      auto early = unclaimed_.extract(id);  // its terminal event, if it came before its line
      if (st->state == TransferState::Completed) {
        std::error_code ec;
        if (info.direction == Direction::Download && !std::filesystem::exists(info.path, ec)) {
          // Deleted since: fetch it again.
          if (early) to_ack_.push_back(early.mapped());
          return false;
        }
        if (early) {
          to_ack_.push_back(early.mapped());
          report_.completed(id, info, early.mapped().bytes, early.mapped().digest);
        } else {
          report_.skipped(id, info, "completed by an earlier run");
        }
        return true;
      }
      if (st->state == TransferState::Cancelled) {
        if (early) to_ack_.push_back(early.mapped());
        return false;
      }
      // Unfinished ones run since the engine opened; a failed one may keep what it had (a .part,
      // an upload resource) and is resumed from there if the engine can.
      if (st->state == TransferState::Paused || st->state == TransferState::Failed) {
        if (!engine_.resume(id)) {
          if (early) to_ack_.push_back(early.mapped());
          return false;
        }
        if (early) to_ack_.push_back(early.mapped());
        early = {};
      }
      inflight_.emplace(id, Tracked{info, st->state});
      report_.queued(id, info, true);
      if (early) handle(early.mapped());
      return true;
    }
    return false;
  }

  void enqueue(std::vector<PreparedEntry>& pending) {
    if (pending.empty() || broken_) return;
    std::vector<TransferSpec> specs;
    specs.reserve(pending.size());
    for (const auto& p : pending) specs.push_back(p.spec);
    auto ids = engine_.enqueue(std::move(specs));
    if (ids) {
      for (std::size_t i = 0; i < pending.size(); ++i) track((*ids)[i], pending[i].info);
    } else if (ids.error().category() == ErrorCategory::Journal) {
      fail_batch(ids.error());
    } else {
      // One batch is all or none: find the entries the engine refused, and queue the rest.
      for (const auto& p : pending) {
        auto id = engine_.enqueue(p.spec);
        if (id) {
          track(*id, p.info);
        } else if (id.error().category() == ErrorCategory::Journal) {
          fail_batch(id.error());
          break;
        } else {
          report_.invalid(p.info.line, id.error().message(), std::string(to_string(id.error().category())));
        }
      }
    }
    pending.clear();
  }

  void track(TransferId id, const EntryInfo& info) {
    inflight_.emplace(id, Tracked{info});
    report_.queued(id, info, false);
  }

  // The journal failed: nothing more can be admitted or acknowledged.
  void fail_batch(const Error& error) {
    if (!fatal_) fatal_ = error;
    broken_ = true;
  }

  void drain_events(std::chrono::milliseconds wait) {
    for (const auto& event : engine_.next_events(kEventBurst, wait, kEventLinger)) handle(event);
    check_cut_offs();
    report_.tick();
    // Terminal events of a burst are acknowledged in one synced write, not one each.
    if (!to_ack_.empty()) {
      if (auto r = engine_.ack(to_ack_); !r) fail_batch(r.error());
      to_ack_.clear();
    }
  }

  void handle(const Event& event) {
    auto it = inflight_.find(event.id);
    if (it == inflight_.end()) {
      // Not (yet) one of ours: a transfer of an earlier run whose line comes later keeps its
      // event for then; anything else is left unacknowledged for `xfer resume` to report.
      if (event.terminal()) unclaimed_.insert_or_assign(event.id, event);
      return;
    }
    const EntryInfo& info = it->second.info;
    const auto category = [&](const char* otherwise) {
      return event.error ? std::string(to_string(event.error->category())) : std::string(otherwise);
    };
    const std::string reason = event.error ? event.error->message() : event.message;
    switch (event.kind) {
      case EventKind::Completed:
        report_.completed(event.id, info, event.bytes, event.digest);
        completed_bytes_ += event.bytes;
        break;
      case EventKind::Failed:
        report_.failed(event.id, info, category("internal"), reason, false);
        break;
      case EventKind::Cancelled:
        report_.failed(event.id, info, "cancelled", "cancelled", false);
        break;
      case EventKind::Progress:
        it->second.bytes = event.bytes;
        report_.progress(event.id, info, event.bytes, event.total);
        return;
      case EventKind::Restarted:
        report_.restarted(event.id, info, event.message);
        return;
      case EventKind::StateChanged: {
        const TransferState before = it->second.state;
        it->second.state = event.state;
        if (event.state == TransferState::Active) {
          if (before != TransferState::Active) report_.started(event.id, info);
        } else if (event.state == TransferState::Waiting) {
          auto st = engine_.status(event.id);
          report_.retry(event.id, info, event.message, event.error, st ? st->next_attempt_at : std::nullopt,
                        st ? st->attempts : 0);
        } else if (event.state == TransferState::Paused) {
          // A full disk, a missing secret: kept for `xfer resume`, not done in this run.
          report_.failed(event.id, info, category("paused"), reason, true);
          inflight_.erase(it);
        }
        return;
      }
    }
    to_ack_.push_back(event);
    inflight_.erase(it);
  }

  Engine& engine_;
  ManifestReader& manifest_;
  BatchReport& report_;
  const BatchSettings& settings_;
  Screen screen_;
  JournalIndex index_;
  struct Tracked {
    EntryInfo info;
    // StateChanged events also say things within a state (an upload's resource URL arrived):
    // "started" is only the move into Active.
    TransferState state = TransferState::Queued;
    std::uint64_t bytes = 0;  // moved so far (its last progress)
  };
  std::unordered_map<TransferId, Tracked> inflight_;
  std::unordered_map<TransferId, Event> unclaimed_;
  std::vector<Event> to_ack_;
  // Read and checked, not enqueued yet (fill() collects a window; a quiet source flushes it).
  std::vector<PreparedEntry> pending_;
  bool manifest_done_ = false;
  bool cut_off_ = false;
  std::uint64_t completed_bytes_ = 0;
  std::chrono::steady_clock::time_point started_at_ = std::chrono::steady_clock::now();
  bool broken_ = false;
  std::optional<Error> fatal_;
};

}  // namespace

int run_batch(Engine& engine, ManifestReader& manifest, BatchReport& report, const BatchSettings& settings) {
  return BatchRun(engine, manifest, report, settings).run();
}

int dry_run_batch(ManifestReader& manifest, BatchReport& report, const BatchSettings& settings) {
  Screen screen(settings.defaults);
  bool interrupted = false;
  while (auto item = manifest.next()) {
    if (settings.stop && settings.stop()) {
      interrupted = true;
      break;
    }
    if (auto prepared = screen.admit(std::move(*item), report)) report.planned(prepared->info);
  }
  return report.finish(interrupted, true, manifest.fatal());
}

}  // namespace xfer::cli
