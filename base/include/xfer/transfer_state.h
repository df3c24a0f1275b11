// TransferState: the one lifecycle every transfer goes through. The same values are journaled
// (never renumber them), so a state survives a restart (Active comes back as Queued and is resumed).
//
//   Queued ─► Active ─► Completed
//     ▲  ▲      │ │ └──► Failed      (final error, or the retry budget is spent)
//     │  │      │ └────► Waiting ──► Queued   (retryable failure; next attempt time journaled)
//     │  └──────┴──────► Paused  ──► Queued   (pause(), or a local error such as a full disk)
//     any unfinished ──► Cancelled
#pragma once

#include <cstdint>
#include <string_view>

namespace xfer {

enum class TransferState : std::uint8_t {
  Queued = 0,     // admitted to the journal, not started
  Active = 1,     // moving bytes (after a crash: resumed)
  Paused = 2,     // paused by the user or by a local error (disk full); kept
  Waiting = 3,    // waiting for its next attempt after a retryable failure
  Completed = 4,  // verified and at its destination
  Failed = 5,     // gave up: final error or retry budget exhausted
  Cancelled = 6,
};

std::string_view to_string(TransferState state);

inline bool is_terminal(TransferState state) {
  return state == TransferState::Completed || state == TransferState::Failed ||
         state == TransferState::Cancelled;
}

// Queued, Active, Paused and Waiting: they come back after a restart.
inline bool is_unfinished(TransferState state) { return !is_terminal(state); }

}  // namespace xfer
