// TransferState: the one lifecycle every transfer goes through. The same values are journaled,
// so a state survives a restart (Active comes back as Queued and is resumed).
//
//   Queued ─► Active ─► Completed
//     ▲  ▲      │ │ └──► Failed      (final error, or the retry budget is spent)
//     │  │      │ └────► Waiting ──► Queued   (retryable failure; next attempt time journaled)
//     │  └──────┴──────► Paused  ──► Queued   (pause(), or a local error such as a full disk)
//     any unfinished ──► Cancelled
#pragma once

#include <string_view>

namespace xfer {

enum class TransferState { Queued, Active, Paused, Waiting, Completed, Failed, Cancelled };

std::string_view to_string(TransferState state);

inline bool is_terminal(TransferState state) {
  return state == TransferState::Completed || state == TransferState::Failed ||
         state == TransferState::Cancelled;
}

}  // namespace xfer
