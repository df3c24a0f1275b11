#include <xfer/http_version.h>
#include <xfer/transfer_state.h>
#include <xfer/upload_protocol.h>

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

std::string_view to_string(HttpVersion version) {
  switch (version) {
    case HttpVersion::Any: return "any";
    case HttpVersion::Http1_1: return "HTTP/1.1";
    case HttpVersion::Http2: return "HTTP/2";
    case HttpVersion::Http3: return "HTTP/3";
    case HttpVersion::Http3Preferred: return "HTTP/3 preferred";
  }
  return "unknown";
}

std::string_view to_string(UploadProtocol protocol) {
  switch (protocol) {
    case UploadProtocol::Ietf: return "ietf";
    case UploadProtocol::Tus: return "tus";
    case UploadProtocol::Plain: return "put";
  }
  return "unknown";
}

std::optional<UploadProtocol> upload_protocol_named(std::string_view name) {
  for (auto p : {UploadProtocol::Ietf, UploadProtocol::Tus, UploadProtocol::Plain})
    if (to_string(p) == name) return p;
  return std::nullopt;
}

}  // namespace xfer
