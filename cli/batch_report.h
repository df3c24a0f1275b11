// BatchReport: what `xfer batch` says while it runs and at the end. With --json, one JSON
// object per line on stdout for every event (schema version 1, docs/cli.md "JSON events"),
// the summary last. Without it, stderr gets a line per invalid entry, retry and restart, and
// the summary with every failure (the first 100) at the end; nothing per file that went well.
// It keeps the counts and the first 100 failures only, whatever the manifest's length.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <xfer/error.h>
#include <xfer/ids.h>

#include "cli/batch_entry.h"
#include "cli/live_display.h"

namespace xfer::cli {

class BatchReport {
 public:
  BatchReport(bool json, std::FILE* out = stdout, std::FILE* err = stderr);

  // The manifest.
  void invalid(std::size_t line, const std::string& reason, const std::string& category = "manifest");
  void duplicate(std::size_t line, std::size_t first_line);
  void skipped(TransferId id, const EntryInfo& entry, const std::string& reason);
  void planned(const EntryInfo& entry);  // --dry-run
  // Transfers. `adopted`: journaled by an earlier run, continued by this one.
  void queued(TransferId id, const EntryInfo& entry, bool adopted);
  void started(TransferId id, const EntryInfo& entry);
  void progress(TransferId id, const EntryInfo& entry, std::uint64_t bytes, std::optional<std::uint64_t> total);
  void retry(TransferId id, const EntryInfo& entry, const std::string& reason, const std::optional<Error>& error,
             std::optional<std::chrono::system_clock::time_point> at, std::uint32_t attempts);
  void restarted(TransferId id, const EntryInfo& entry, const std::string& reason);
  // `digest`: what the engine computed ("sha256:<hex>"), empty when it computed none.
  void completed(TransferId id, const EntryInfo& entry, std::uint64_t bytes, const std::string& digest);
  // Text mode (--digest): a sha256sum line on stdout per completed file.
  void print_digests(bool on) { print_digests_ = on; }
  // A cut-off (--max-transfer, --max-duration) ended admission: the summary says which.
  void cut_off(const std::string& reason);
  // `kept`: not failed for good (paused by a local error such as a full disk): `xfer resume`.
  void failed(TransferId id, const EntryInfo& entry, const std::string& category, const std::string& reason, bool kept);

  // The summary; returns the exit code (docs/cli.md): 0, kExitSomeFailed, kExitInterrupted,
  // or `fatal_code` when a fatal error (given as `fatal`) ended the batch early.
  int finish(bool interrupted, bool dry_run, const std::optional<Error>& fatal = std::nullopt);

  std::size_t failures() const { return failed_ + invalid_; }

  // Text mode only: draw a LiveDisplay on `err` (a terminal: redrawn in place; otherwise a
  // plain status line now and then). Lines about single entries then go through it.
  void show_live(LiveDisplay::Options options);
  // Every entry of the manifest has been read.
  void manifest_read();
  // Lets the display redraw when due; call it between events.
  void tick();

 private:
  struct Failure {
    std::size_t line;
    std::string url, path, category, reason;
    bool invalid = false;  // refused before it was queued
  };
  void emit(const std::string& json_line);
  double elapsed() const;
  void note_failure(Failure f);
  void say(const std::string& line);  // a line for people on err_ (above the live display)

  bool json_;
  std::FILE* out_;
  bool print_digests_ = false;
  std::FILE* err_;
  std::unique_ptr<LiveDisplay> live_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::size_t completed_ = 0, failed_ = 0, invalid_ = 0, duplicates_ = 0, skipped_ = 0, planned_ = 0;
  std::size_t retries_ = 0;
  std::uint64_t bytes_ = 0;
  std::vector<Failure> failures_;  // the first kMaxListed
  std::size_t failures_omitted_ = 0;
  std::string cut_off_;
  static constexpr std::size_t kMaxListed = 100;
};

}  // namespace xfer::cli
