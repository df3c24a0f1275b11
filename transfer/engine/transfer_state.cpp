#include <xfer/transfer_state.h>

namespace xfer {

std::string_view to_string(TransferState state) {
  switch (state) {
    case TransferState::Queued: return "queued";
    case TransferState::Active: return "active";
    case TransferState::Paused: return "paused";
    case TransferState::Waiting: return "waiting";
    case TransferState::Completed: return "completed";
    case TransferState::Failed: return "failed";
    case TransferState::Cancelled: return "cancelled";
  }
  return "unknown";
}

}  // namespace xfer
