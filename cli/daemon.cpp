#include "cli/daemon.h"

#include <cstdio>

#include <unistd.h>

#include <fmt/format.h>

#include "cli/bandwidth_control.h"
#include "cli/control_socket.h"
#include "cli/control_verbs.h"
#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/terminal_inbox.h"

namespace xfer::cli {
namespace {

void say(const std::string& line) {
  std::fprintf(stderr, "xfer daemon: %s\n", line.c_str());
  std::fflush(stderr);
}

// What an operator watching the daemon's log wants: every end, every retry with its reason.
void log_event(const Event& e) {
  if (e.kind == EventKind::Completed) {
    say(fmt::format("completed {} {} ({})", e.id, e.destination, human_bytes(static_cast<double>(e.bytes))));
  } else if (e.kind == EventKind::Failed || e.kind == EventKind::Cancelled) {
    say(fmt::format("{} {} {}: {}", e.kind == EventKind::Failed ? "failed" : "cancelled", e.id, e.destination,
                    e.message));
  } else if (e.kind == EventKind::StateChanged && e.state == TransferState::Waiting) {
    say(fmt::format("{} waits to retry: {}", e.id, e.message));
  } else if (e.kind == EventKind::Restarted) {
    say(fmt::format("{} restarts from zero: {}", e.id, e.message));
  }
}

}  // namespace

int run_daemon(Engine& engine, const DaemonSettings& settings) {
  TerminalInbox inbox;
  BandwidthControl bandwidth(engine, settings.whole_run, settings.per_transfer);
  ControlVerbs verbs;
  verbs["limit"] = limit_verb(bandwidth);
  verbs["add"] = add_verb(engine, settings.defaults);
  verbs["events"] = events_verb(inbox);
  verbs["ack"] = ack_verb(inbox, engine);
  auto control = ControlServer::start(engine, settings.journal_dir, std::move(verbs));
  if (!control) {
    // Without its socket a daemon can be told nothing: not worth running.
    (void)engine.shutdown();
    return kExitLocalIo;
  }
  say(fmt::format("pid {} serves {} ({} unfinished transfers resumed); `xfer add` queues, "
                  "`xfer events` hands out what ended, SIGTERM stops at a checkpoint",
                  ::getpid(), control_socket_path(settings.journal_dir), engine.unfinished_count()));
  // What the outbox redelivered at open waits from an earlier run: counted, not logged again.
  std::size_t from_before = 0;
  for (const auto& e : engine.next_events(100000, std::chrono::milliseconds(0))) {
    inbox.put(e);
    from_before += e.terminal() ? 1 : 0;
  }
  if (from_before > 0) say(fmt::format("{} event(s) from before wait for `xfer events --ack`", from_before));
  while (!settings.stop()) {
    for (const auto& e : engine.next_events(256, std::chrono::milliseconds(200), std::chrono::milliseconds(10))) {
      inbox.put(e);
      log_event(e);
    }
  }
  // The socket goes first: no client may add while the engine stops.
  control.reset();
  auto shut = engine.shutdown();
  if (!shut) {
    say(shut.error().describe());
    return exit_code_for(shut.error().category());
  }
  say(fmt::format("stopped at a checkpoint; {} event(s) still wait for `xfer events --ack`", inbox.size()));
  return kExitInterrupted;
}

}  // namespace xfer::cli
