// `xfer ls` and `xfer status ID`: what a journal holds, read with the engine opened on it
// without starting any transfer (so only when no other xfer process holds the journal; asking
// a running one over a control socket is not built yet). Text for people, or with `json` one
// object per transfer (ls: JSON Lines; status: one object), schema in docs/cli.md.
#pragma once

#include <cstdio>
#include <optional>

#include <xfer/engine.h>

namespace xfer::cli {

// Every transfer of the journal (finished ones too), in id order; only those in `state` when
// given. Returns the exit code.
int list_transfers(Engine& engine, std::optional<TransferState> state, bool json, std::FILE* out = stdout);

// One transfer: state, bytes (durable ones too), attempts, the last error (the server's answer
// when it was one), the next attempt's time, the protocol. Returns the exit code (2 when the
// journal has no such transfer).
int show_status(Engine& engine, TransferId id, bool json, std::FILE* out = stdout);

// "queued", "active", ... (as to_string says them) → the state.
std::optional<TransferState> parse_state(const std::string& name);

}  // namespace xfer::cli
