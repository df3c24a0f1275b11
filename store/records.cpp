#include "store/records.h"

namespace xfer::store {

bool is_unfinished(TransferState state) {
  switch (state) {
    case TransferState::Queued:
    case TransferState::Active:
    case TransferState::Paused:
    case TransferState::Waiting:
      return true;
    case TransferState::Completed:
    case TransferState::Failed:
    case TransferState::Cancelled:
      return false;
  }
  return false;
}

}  // namespace xfer::store
