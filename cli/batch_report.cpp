#include "cli/batch_report.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/options.h"

namespace xfer::cli {
namespace {

// Ordered: "v", "t" and "event" come first on every line, as a person reading it expects.
using json = nlohmann::ordered_json;

std::string file_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

json base(const char* event, double t) {
  json j;
  j["v"] = 1;
  j["t"] = std::round(t * 1000) / 1000;
  j["event"] = event;
  return j;
}

json with_entry(json j, TransferId id, const EntryInfo& e) {
  j["line"] = e.line;
  if (id != 0) j["id"] = id;
  return j;
}

}  // namespace

BatchReport::BatchReport(bool json, std::FILE* out, std::FILE* err) : json_(json), out_(out), err_(err) {}

double BatchReport::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void BatchReport::emit(const std::string& line) {
  std::fputs(line.c_str(), out_);
  std::fputc('\n', out_);
  // Scripts follow along: every event is its own line the moment it happens.
  std::fflush(out_);
}

void BatchReport::show_live(LiveDisplay::Options options) {
  if (json_) return;
  options.out = err_;
  live_ = std::make_unique<LiveDisplay>(std::move(options));
}

void BatchReport::manifest_read() {
  if (live_) live_->manifest_read();
}

void BatchReport::tick() {
  if (live_) live_->tick();
}

void BatchReport::say(const std::string& line) {
  if (live_) live_->note(line);
  else std::fprintf(err_, "%s\n", line.c_str());
}

void BatchReport::note_failure(Failure f) {
  if (failures_.size() < kMaxListed) failures_.push_back(std::move(f));
  else ++failures_omitted_;
}

// Paths and URLs come from the manifest and need not be UTF-8: invalid bytes become U+FFFD
// in JSON rather than ending the run.
#define XFER_DUMP(j) (j).dump(-1, ' ', false, json::error_handler_t::replace)

void BatchReport::invalid(std::size_t line, const std::string& reason, const std::string& category) {
  ++invalid_;
  note_failure({line, "", "", category, reason, true});
  if (json_) {
    auto j = base("invalid", elapsed());
    j["line"] = line;
    j["category"] = category;
    j["reason"] = reason;
    emit(XFER_DUMP(j));
  } else {
    say(fmt::format("xfer: manifest line {}: {}", line, reason));
  }
}

void BatchReport::duplicate(std::size_t line, std::size_t first_line) {
  ++duplicates_;
  if (json_) {
    auto j = base("duplicate", elapsed());
    j["line"] = line;
    j["first_line"] = first_line;
    emit(XFER_DUMP(j));
  } else {
    say(fmt::format("xfer: manifest line {}: the same entry as line {}, skipped", line, first_line));
  }
}

void BatchReport::skipped(TransferId id, const EntryInfo& entry, const std::string& reason) {
  ++skipped_;
  if (!json_) return;
  auto j = with_entry(base("skipped", elapsed()), id, entry);
  j["direction"] = direction_name(entry.direction);
  j["url"] = entry.url;
  j["file"] = entry.path;
  j["reason"] = reason;
  emit(XFER_DUMP(j));
}

void BatchReport::planned(const EntryInfo& entry) {
  ++planned_;
  if (!json_) return;
  auto j = with_entry(base("planned", elapsed()), 0, entry);
  j["direction"] = direction_name(entry.direction);
  j["url"] = entry.url;
  j["file"] = entry.path;
  emit(XFER_DUMP(j));
}

void BatchReport::queued(TransferId id, const EntryInfo& entry, bool adopted) {
  if (live_) live_->queued();
  if (!json_) return;
  auto j = with_entry(base("queued", elapsed()), id, entry);
  j["direction"] = direction_name(entry.direction);
  j["url"] = entry.url;
  j["file"] = entry.path;
  if (!entry.checksum.empty()) j["checksum"] = entry.checksum;
  if (adopted) j["adopted"] = true;
  emit(XFER_DUMP(j));
}

void BatchReport::started(TransferId id, const EntryInfo& entry) {
  if (live_) live_->started(id, file_name(entry.path));
  if (!json_) return;
  emit(XFER_DUMP(with_entry(base("started", elapsed()), id, entry)));
}

void BatchReport::progress(TransferId id, const EntryInfo& entry, std::uint64_t bytes,
                           std::optional<std::uint64_t> total) {
  if (live_) live_->progress(id, bytes, total);
  if (!json_) return;
  auto j = with_entry(base("progress", elapsed()), id, entry);
  j["bytes"] = bytes;
  j["total"] = total ? json(*total) : json(nullptr);
  emit(XFER_DUMP(j));
}

void BatchReport::retry(TransferId id, const EntryInfo& entry, const std::string& reason,
                        const std::optional<Error>& error,
                        std::optional<std::chrono::system_clock::time_point> at, std::uint32_t attempts) {
  ++retries_;
  if (!json_) {
    // As `xfer get` says it: a silent wait looks like a hang.
    if (live_) live_->waiting(id, file_name(entry.path), at, error ? error->message() : reason);
    say(fmt::format("xfer: {} (line {}): {}", file_name(entry.path), entry.line, reason));
    return;
  }
  auto j = with_entry(base("retry", elapsed()), id, entry);
  j["attempts"] = attempts;
  j["category"] = error ? std::string(to_string(error->category())) : std::string("unknown");
  if (error && error->http_status() != 0) j["http_status"] = error->http_status();
  j["reason"] = error ? error->message() : reason;
  if (at) {
    j["at"] = iso_utc(*at);
    const double in = std::chrono::duration<double>(*at - std::chrono::system_clock::now()).count();
    j["in_s"] = std::round(std::max(0.0, in) * 1000) / 1000;
  } else {
    j["at"] = nullptr;
  }
  emit(XFER_DUMP(j));
}

void BatchReport::restarted(TransferId id, const EntryInfo& entry, const std::string& reason) {
  if (!json_) {
    say(fmt::format("xfer: {} (line {}): {}", file_name(entry.path), entry.line, reason));
    return;
  }
  auto j = with_entry(base("restarted", elapsed()), id, entry);
  j["reason"] = reason;
  emit(XFER_DUMP(j));
}

void BatchReport::completed(TransferId id, const EntryInfo& entry, std::uint64_t bytes,
                            const std::string& digest) {
  ++completed_;
  bytes_ += bytes;
  if (live_) live_->completed(id, bytes);
  if (!json_) {
    if (const auto line = digest_line(digest, entry.path); print_digests_ && !line.empty()) emit(line);
    return;
  }
  auto j = with_entry(base("completed", elapsed()), id, entry);
  j["bytes"] = bytes;
  // Computed from the bytes in place (and equal to the manifest's checksum, which was verified);
  // a completion journaled by an earlier run that computed none has only the checksum, if any.
  const std::string& known = digest.empty() ? entry.checksum : digest;
  j["digest"] = known.empty() ? json(nullptr) : json(known);
  emit(XFER_DUMP(j));
}

void BatchReport::failed(TransferId id, const EntryInfo& entry, const std::string& category,
                         const std::string& reason, bool kept) {
  ++failed_;
  note_failure({entry.line, entry.url, entry.path, category, reason, false});
  if (live_) live_->failed(id);
  if (!json_) return;
  auto j = with_entry(base("failed", elapsed()), id, entry);
  j["category"] = category;
  j["reason"] = reason;
  j["resumable"] = kept;
  emit(XFER_DUMP(j));
}

void BatchReport::cut_off(const std::string& reason) {
  cut_off_ = reason;
  if (json_) {
    auto j = base("cut_off", elapsed());
    j["reason"] = reason;
    emit(XFER_DUMP(j));
  } else {
    say("xfer: batch: " + reason + "; admitting nothing more, checkpointing what runs");
  }
}

int BatchReport::finish(bool interrupted, bool dry_run, const std::optional<Error>& fatal) {
  if (live_) live_->close();
  const double secs = elapsed();
  const double rate = secs > 0 ? static_cast<double>(bytes_) / secs : 0;
  int code = kExitOk;
  if (fatal && fatal->category() != ErrorCategory::Cancelled) code = exit_code_for(fatal->category());
  else if (interrupted || fatal) code = kExitInterrupted;
  else if (failed_ + invalid_ > 0) code = kExitSomeFailed;

  if (json_) {
    auto j = base("summary", secs);
    if (dry_run) j["entries"] = planned_;
    else j["files"] = completed_;
    j["bytes"] = bytes_;
    j["duration_s"] = std::round(secs * 1000) / 1000;
    j["bytes_per_second"] = static_cast<std::uint64_t>(std::llround(rate));
    j["failed"] = failed_;
    j["invalid"] = invalid_;
    j["duplicates"] = duplicates_;
    j["skipped"] = skipped_;
    j["retries"] = retries_;
    j["interrupted"] = code == kExitInterrupted;
    if (!cut_off_.empty()) j["cut_off"] = cut_off_;
    if (fatal) j["fatal"] = fatal->describe();
    j["exit_code"] = code;
    json list = json::array();
    for (const auto& f : failures_) {
      json item;
      item["line"] = f.line;
      item["kind"] = f.invalid ? "invalid" : "failed";
      if (!f.url.empty()) item["url"] = f.url;
      if (!f.path.empty()) item["file"] = f.path;
      item["category"] = f.category;
      item["reason"] = f.reason;
      list.push_back(std::move(item));
    }
    j["failures"] = std::move(list);
    j["failures_omitted"] = failures_omitted_;
    emit(XFER_DUMP(j));
    return code;
  }

  std::string line;
  if (dry_run) {
    line = fmt::format("xfer: batch --dry-run: {} entr{} to transfer", planned_, planned_ == 1 ? "y" : "ies");
  } else {
    line = fmt::format("xfer: batch: {} file{} done, {} in {:.1f} s ({}/s)", completed_, completed_ == 1 ? "" : "s",
                       human_bytes(static_cast<double>(bytes_)), secs, human_bytes(rate));
  }
  if (failed_) line += fmt::format(", {} failed", failed_);
  if (invalid_) line += fmt::format(", {} invalid entr{}", invalid_, invalid_ == 1 ? "y" : "ies");
  if (duplicates_) line += fmt::format(", {} duplicate{} skipped", duplicates_, duplicates_ == 1 ? "" : "s");
  if (skipped_) line += fmt::format(", {} already complete in the journal", skipped_);
  std::fprintf(err_, "%s\n", line.c_str());
  // Invalid entries were each reported as they were read; the failed transfers are listed here.
  for (const auto& f : failures_)
    if (!f.invalid)
      std::fprintf(err_, "xfer:   line %zu: %s: %s: %s\n", f.line, f.path.c_str(), f.category.c_str(), f.reason.c_str());
  if (failures_omitted_) std::fprintf(err_, "xfer:   ... and %zu more failures or invalid entries\n", failures_omitted_);
  if (fatal && fatal->category() != ErrorCategory::Cancelled)
    std::fprintf(err_, "xfer: %s\n", fatal->describe().c_str());
  if (code == kExitInterrupted)
    std::fprintf(err_,
                 "xfer: %s; the transfers begun are journaled: `xfer resume` finishes them, `xfer "
                 "batch` with the same manifest and journal finishes the rest of the manifest too\n",
                 cut_off_.empty() ? "interrupted" : ("stopped: " + cut_off_).c_str());
  return code;
}

}  // namespace xfer::cli
