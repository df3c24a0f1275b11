// The control socket's verbs beyond ls/status/pause/resume/cancel (cli/control_socket.h), each
// served only by the runs that have what it needs:
//   limit   {"rate":"1M"|"08:00,1M 18:00,off", "per_transfer":false}: replaces a limit (no
//           "rate": only shows them); answers {"whole_run":..,"whole_run_now":N,"per_transfer":..,
//           "per_transfer_now":N}. Every run with a BandwidthControl.
//   add     {"entries":[manifest objects], "protocol":"http2"}: queues them (each checked as
//           `xfer batch` checks a manifest line); one answer per entry: {"entry":N,"id":ID} or
//           {"entry":N,"error":...}. `xfer daemon` only.
//   events  the terminal events waiting for an acknowledgement (cli/terminal_inbox.h). Daemon.
//   ack     {"seqs":[N,...]}: acknowledges them, all or none. Daemon.
#pragma once

#include <optional>
#include <string>

#include <xfer/engine.h>

#include "cli/bandwidth_control.h"
#include "cli/batch_entry.h"
#include "cli/control_socket.h"
#include "cli/terminal_inbox.h"

namespace xfer::cli {

ControlVerb limit_verb(BandwidthControl& bandwidth);
ControlVerb add_verb(Engine& engine, BatchDefaults defaults);
ControlVerb events_verb(TerminalInbox& inbox);
ControlVerb ack_verb(TerminalInbox& inbox, Engine& engine);

// The answer of `limit`, for people: "whole run: 1 MiB/s (08:00,1M 18:00,off); each transfer: none".
std::string describe_limits(const std::string& answer_line);

// "http1.1", "http2", "http3", "http3-only", "any" ↔ HttpVersion (what `add` carries).
const char* protocol_flag_name(HttpVersion version);
std::optional<HttpVersion> protocol_from_flag_name(const std::string& name);

// Queues manifest-form entries (JSON objects, one per line of `lines`) on `engine`, each checked
// as `xfer batch` checks its lines; one answer line per entry (as `add` answers). For `xfer add`
// on a journal nothing runs on, and for the daemon's verb.
ControlAnswer add_entries(Engine& engine, const std::string& lines, const BatchDefaults& defaults);

}  // namespace xfer::cli
