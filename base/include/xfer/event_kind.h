// What an Event reports (<xfer/events.h>). The terminal kinds are also what the journal's
// outbox records, as these values: never renumber them.
#pragma once

#include <cstdint>

namespace xfer {

enum class EventKind : std::uint8_t {
  Completed = 0,     // terminal: verified and renamed into place
  Failed = 1,        // terminal: message is the final error
  Cancelled = 2,     // terminal
  StateChanged = 3,  // state moved; message says why (error text for Waiting / Paused)
  Progress = 4,      // bytes moved (at most a few per second per transfer)
  Restarted = 5,     // the representation changed or ranges are unsupported: starting from zero
};

inline bool is_terminal(EventKind kind) {
  return kind == EventKind::Completed || kind == EventKind::Failed || kind == EventKind::Cancelled;
}

}  // namespace xfer
