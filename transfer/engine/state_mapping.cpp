#include "transfer/engine/state_mapping.h"

namespace xfer::engine {

store::TransferState to_store(TransferState state) {
  switch (state) {
    case TransferState::Queued: return store::TransferState::Queued;
    case TransferState::Active: return store::TransferState::Active;
    case TransferState::Paused: return store::TransferState::Paused;
    case TransferState::Waiting: return store::TransferState::Waiting;
    case TransferState::Completed: return store::TransferState::Completed;
    case TransferState::Failed: return store::TransferState::Failed;
    case TransferState::Cancelled: return store::TransferState::Cancelled;
  }
  return store::TransferState::Failed;
}

TransferState from_store(store::TransferState state) {
  switch (state) {
    case store::TransferState::Queued: return TransferState::Queued;
    case store::TransferState::Active: return TransferState::Active;
    case store::TransferState::Paused: return TransferState::Paused;
    case store::TransferState::Waiting: return TransferState::Waiting;
    case store::TransferState::Completed: return TransferState::Completed;
    case store::TransferState::Failed: return TransferState::Failed;
    case store::TransferState::Cancelled: return TransferState::Cancelled;
  }
  return TransferState::Failed;
}

store::ProtocolPreference to_store(ProtocolPreference protocol) {
  switch (protocol) {
    case ProtocolPreference::Any: return store::ProtocolPreference::Any;
    case ProtocolPreference::Http1_1: return store::ProtocolPreference::Http1;
    case ProtocolPreference::Http2: return store::ProtocolPreference::Http2;
    case ProtocolPreference::Http3: return store::ProtocolPreference::Http3;
  }
  return store::ProtocolPreference::Any;
}

ProtocolPreference from_store(store::ProtocolPreference protocol) {
  switch (protocol) {
    case store::ProtocolPreference::Any: return ProtocolPreference::Any;
    case store::ProtocolPreference::Http1: return ProtocolPreference::Http1_1;
    case store::ProtocolPreference::Http2: return ProtocolPreference::Http2;
    case store::ProtocolPreference::Http3: return ProtocolPreference::Http3;
  }
  return ProtocolPreference::Any;
}

}  // namespace xfer::engine
