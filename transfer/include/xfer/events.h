// Events the engine reports to the embedding app.
//
// Progress, StateChanged and Restarted are informational: delivered at most once, dropped if
// the app does not keep up (the poll queue is bounded), never redelivered.
// Completed, Failed and Cancelled are terminal and durable: each comes from the journal's
// outbox, is delivered again after every restart until the app calls Engine::ack() with it,
// and is never delivered after an ack (design.md invariant 5).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <xfer/ids.h>
#include <xfer/error.h>
#include <xfer/event_kind.h>
#include <xfer/transfer_state.h>

namespace xfer {

struct Event {
  EventKind kind = EventKind::StateChanged;
  TransferId id = 0;
  // The outbox sequence number for terminal events (what ack() needs); 0 for the others.
  std::uint64_t seq = 0;
  TransferState state = TransferState::Queued;
  std::uint64_t bytes = 0;
  std::optional<std::uint64_t> total;
  std::string message;
  // Why: on Failed events, and on StateChanged to Waiting (a retryable failure) or to Paused by
  // a failure (a local error such as a full disk, or secrets a restarted transfer still needs);
  // absent on a pause by request. Its category and retryable flag are what programs decide on (the CLI's exit
  // code comes from here); `message` is the text for people.
  std::optional<Error> error;
  Direction direction = Direction::Download;
  // Set on terminal events: a download's destination, an upload's source file.
  std::string destination;
  // Uploads: the upload resource once the server named it (a 104 or 201 Location); the URL a
  // later resume continues at.
  std::string upload_url;
  // Completed events, when EngineConfig::report_digests is on: "sha256:<hex>" of every byte of
  // the file (the checksum's algorithm instead when the transfer was given one), computed from
  // the bytes on disk that were verified (downloads) or sent (uploads).
  std::string digest;

  bool terminal() const { return is_terminal(kind); }
};

}  // namespace xfer
