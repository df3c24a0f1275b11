// TransferStatus: a snapshot of one transfer, as Engine::status() reports it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <xfer/ids.h>
#include <xfer/error.h>
#include <xfer/transfer_state.h>

namespace xfer {

struct TransferStatus {
  TransferId id = 0;
  Direction direction = Direction::Download;
  std::string url;
  std::string destination;  // a download's destination, an upload's source
  std::string upload_url;   // uploads: the upload resource once known
  TransferState state = TransferState::Queued;
  std::uint64_t bytes = 0;           // bytes written (download) or sent (upload) so far
  // Downloads: bytes synced and journaled. Uploads: bytes the server acknowledged, journaled.
  std::uint64_t durable_bytes = 0;
  std::optional<std::uint64_t> total;
  std::uint32_t attempts = 0;
  // When a Waiting transfer tries again (journaled; survives a restart).
  std::optional<std::chrono::system_clock::time_point> next_attempt_at;
  // The failure that made it wait, pause or fail (journaled; survives a restart).
  std::optional<Error> last_error;
  double bytes_per_second = 0;       // recent speed, 0 when not Active
  std::string protocol;              // "http/1.1", "h2", ... once known
  std::uint32_t segments = 1;        // ranges in use
  // Uploads of a growing source (UploadSpec::source_grows) whose end was not announced yet.
  bool awaiting_source_end = false;
  // Secrets given at enqueue and kept out of the journal (kUrlUserinfo, header names).
  std::vector<std::string> withheld_secrets;
};

}  // namespace xfer
