// `xfer batch`: runs a manifest through the engine in windows, so memory stays bounded however
// long the manifest is: entries are read and enqueued (one synced journal batch per window of
// up to `window`) only while fewer than `window` of this batch's transfers are unfinished.
// Entries a journal from an earlier run already holds are not enqueued twice: an unfinished
// one is continued and watched, a completed one (whose download is still in place) skipped.
// docs/cli.md, "xfer batch", says what the user sees.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include <xfer/engine.h>

#include "cli/batch_entry.h"
#include "cli/batch_report.h"
#include "cli/manifest.h"

namespace xfer::cli {

struct BatchSettings {
  BatchDefaults defaults;
  std::size_t window = 512;
  // Asked between events and while the manifest is read: stop admitting, checkpoint, return.
  std::function<bool()> stop;
  // The manifest's source, when it may be slow (a pipe): while it is quiet, the entries read
  // so far are enqueued and events reported, instead of waiting for a full window.
  ByteSource* source = nullptr;
  // Cut-offs (--max-transfer, --max-duration): once this many bytes moved (completed ones and
  // what the running ones moved), or this long after the start, the batch stops as on the first
  // SIGINT: nothing more is admitted, what runs is checkpointed, exit 130 (`xfer resume` and the
  // batch again continue).
  std::optional<std::uint64_t> max_bytes;
  std::optional<std::chrono::milliseconds> max_duration;
};

// Returns the exit code; the engine is shut down (checkpointed) when it returns.
int run_batch(Engine& engine, ManifestReader& manifest, BatchReport& report, const BatchSettings& settings);

// --dry-run: every check but the journal's, nothing transferred, no journal opened.
int dry_run_batch(ManifestReader& manifest, BatchReport& report, const BatchSettings& settings);

}  // namespace xfer::cli
