// Waits for a set of transfers to finish, acknowledging their terminal events. One transfer:
// one progress line on a terminal (nothing on a pipe). Several: the live block of
// cli/live_display, its overall line said as `label` ("get: 3 done of 10"). A transfer that pauses with an error (a full
// disk) counts as not done for this run: it stays journaled for `xfer resume`.
#pragma once

#include <chrono>
#include <csignal>
#include <cstddef>
#include <functional>
#include <set>
#include <string>

#include <xfer/engine.h>

#include "cli/live_display.h"

namespace xfer::cli {

// How the CLI takes events: bursts of up to this many, and after the first of a burst up to
// this long for others to join it. Every burst's terminal events are acknowledged in one synced
// journal write, so the linger bounds the acknowledgement writes (and wake-ups) to about a
// hundred a second however many small files finish. The watch of get/put/resume lingers only
// while more than one of its transfers is left, so the last one's event is not delayed.
inline constexpr std::size_t kEventBurst = 256;
inline constexpr std::chrono::milliseconds kEventLinger{10};

struct WatchOutcome {
  int exit_code = 0;
  std::string reason;  // first failure, one line
  std::size_t completed = 0;
  std::size_t failed = 0;
};

// A live display on stderr (redrawn on a terminal, plain lines elsewhere) whose rows name the
// protocol `engine` carries each transfer on; its overall line said as `label`.
LiveDisplay::Options stderr_display_options(Engine& engine, const std::string& label);

// Returns when every id has a terminal event (or paused), or when `stop()` says so (asked
// between events, a few times a second).
// With `ack_others`, terminal events of transfers outside `ids` are acknowledged too (resume).
// `on_completed` (optional) sees each completion of `ids` as it arrives (to print its digest).
WatchOutcome watch_transfers(Engine& engine, std::set<TransferId> ids, bool ack_others,
                             const std::function<bool()>& stop, const std::string& label = "xfer",
                             const std::function<void(const Event&)>& on_completed = {});

}  // namespace xfer::cli
