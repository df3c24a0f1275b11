// `xfer daemon`: an engine with no batch of its own, serving the journal's control socket until
// SIGINT/SIGTERM: `xfer add` queues into it, `xfer ls/status/pause/resume/cancel/limit` control
// it, `xfer events` hands out the terminal events it holds until someone acknowledges them. The
// engine resumes everything unfinished when the daemon starts, so a restart (after a crash or a
// kill -9 too) continues where the journal stands, and an event acknowledged is never handed
// out again.
#pragma once

#include <functional>
#include <string>

#include <xfer/engine.h>

#include "cli/batch_entry.h"
#include "cli/rate_schedule.h"

namespace xfer::cli {

struct DaemonSettings {
  std::string journal_dir;
  RateSchedule whole_run = RateSchedule::constant(0);
  RateSchedule per_transfer = RateSchedule::constant(0);
  BatchDefaults defaults;       // for what `xfer add` queues
  std::function<bool()> stop;   // asked a few times a second
};

// Serves until `stop`, then shuts the engine down at a checkpoint. The exit code: 130 after a
// stop (docs/cli.md: checkpointed, resumable), or the shutdown's failure.
int run_daemon(Engine& engine, const DaemonSettings& settings);

}  // namespace xfer::cli
