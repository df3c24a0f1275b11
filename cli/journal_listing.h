// `xfer ls` and `xfer status ID`: what a journal holds. Read either from an engine opened on
// the journal without starting any transfer (nothing else holds it), or from the xfer that
// holds it, over its control socket (cli/control_socket.h). Text for people, or one JSON object
// per transfer (schema in docs/cli.md), the same either way.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <xfer/engine.h>

namespace xfer::cli {

// Every transfer of the journal (finished ones too), in id order; only those in `state` when
// given.
Result<std::vector<TransferStatus>> journal_transfers(Engine& engine, std::optional<TransferState> state);

// One transfer as one JSON line (no newline), and back (what the socket carries).
std::string status_json_line(const TransferStatus& status);
std::optional<TransferStatus> status_from_json_line(const std::string& line);

// For people: one line per transfer (ls), or a block (status).
void print_ls_line(const TransferStatus& status, std::FILE* out);
void print_status(const TransferStatus& status, std::FILE* out);

// "queued", "active", ... (as to_string says them) → the state.
std::optional<TransferState> parse_state(const std::string& name);

}  // namespace xfer::cli
