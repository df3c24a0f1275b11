// The public TransferState and the journal's store::TransferState are the same lifecycle; these
// convert between them (one-to-one), and between the spec's and the journal's protocol choice.
#pragma once

#include <xfer/download_spec.h>
#include <xfer/transfer_state.h>

#include "store/records.h"

namespace xfer::engine {

store::TransferState to_store(TransferState state);
TransferState from_store(store::TransferState state);
store::ProtocolPreference to_store(ProtocolPreference protocol);
ProtocolPreference from_store(store::ProtocolPreference protocol);

}  // namespace xfer::engine
