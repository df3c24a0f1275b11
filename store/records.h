// The records the journal keeps: what the engine must remember across a crash. Plain values;
// encoding, versioning and checksums live in store/record_codec.h. Times are Unix milliseconds
// (wall clock) because they must survive a reboot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <xfer/error.h>
#include <xfer/event_kind.h>
#include <xfer/header_list.h>
#include <xfer/http_version.h>
#include <xfer/ids.h>
#include <xfer/transfer_state.h>
#include <xfer/upload_protocol.h>

#include "base/alt_service.h"
#include "base/upload_limits.h"

namespace xfer::store {

using UnixMillis = std::int64_t;

struct TransferRecord {
  TransferId id = 0;
  Direction direction = Direction::Download;
  std::string url;
  std::string local_path;  // destination (download) or source (upload)
  HeaderList request_headers;
  HttpVersion protocol = HttpVersion::Any;
  TransferState state = TransferState::Queued;
  std::optional<std::uint64_t> size;  // total size when known
  std::string etag;                   // validators of the representation being resumed
  std::string last_modified;
  std::string checksum;               // user-supplied "sha256:<hex>", empty if none
  std::uint32_t segment_count = 1;
  std::uint32_t attempt_count = 0;
  UnixMillis next_attempt_at = 0;
  // What made it wait, pause or fail; cleared when it completes.
  std::optional<Error> last_error;
  std::int32_t priority = 0;  // higher runs first
  UnixMillis created_at = 0;
  UnixMillis updated_at = 0;
  // Names of the secrets (URL userinfo, Authorization, ...) that were given at enqueue and
  // deliberately not journaled: a later process must be given them again.
  std::vector<std::string> withheld_secrets;

  bool operator==(const TransferRecord&) const = default;
};

// What an upload must remember to continue where the server stopped, kept apart from the
// transfer record (which both directions share). Only the server's word counts: acked_offset
// is what the server acknowledged (design.md invariant 4), never what was merely sent.
struct UploadRecord {
  TransferId transfer_id = 0;
  UploadProtocol protocol = UploadProtocol::Ietf;
  std::uint32_t interop_version = 0;  // IETF draft interop version in use; 0 for the others
  UploadCreation creation = UploadCreation::Auto;
  std::uint64_t chunk_size = 0;  // largest append asked for; 0 = what the server allows
  bool restart_if_source_changed = false;
  std::string method = "PUT";  // plain uploads
  bool replay_non_idempotent = false;
  // The source as it was when the upload began: a change means the bytes on the server no
  // longer match the file, so it must not be resumed onto the old resource.
  std::uint64_t source_size = 0;
  std::int64_t source_mtime_ns = 0;
  std::uint64_t source_inode = 0;
  std::uint64_t source_device = 0;
  std::string resource_url;  // the upload resource (104/201 Location); empty until named
  std::uint64_t acked_offset = 0;
  UnixMillis expires_at = 0;  // from Upload-Limit max-age (tus: Upload-Expires); 0 = unknown
  // No byte at or beyond this offset was ever sent to resource_url (journaled, synced, before
  // such bytes are): an offset retrieval claiming more is a lie. nullopt = unknown (the file's
  // size bounds it; records from before layout version 2).
  std::optional<std::uint64_t> sent_bound;
  // The source is still growing (a pipe being spooled): source_size is what was announced so
  // far, not its length; cleared, with the final size journaled, when the source ends.
  bool source_open_ended = false;  // version 3

  bool operator==(const UploadRecord&) const = default;
};

// One byte range of a (possibly segmented) transfer and its durable cursor: bytes
// [start, offset) are on disk and synced; end is exclusive, nullopt when the size is unknown.
struct SegmentRecord {
  TransferId transfer_id = 0;
  std::uint32_t index = 0;
  std::uint64_t start = 0;
  std::optional<std::uint64_t> end;
  std::uint64_t offset = 0;

  bool operator==(const SegmentRecord&) const = default;
};

// What we learned about one origin ("https://host:port").
struct OriginRecord {
  std::string origin;
  std::vector<AlternativeService> alt_svc;
  // Its HTTP/3 did not work (no handshake, blocked UDP): TCP without trying until then.
  UnixMillis h3_broken_until = 0;
  std::uint32_t upload_interop_version = 0;  // 0 = unknown / not supported
  UploadLimits upload_limits;
  UnixMillis updated_at = 0;

  bool operator==(const OriginRecord&) const = default;
};

// An event the embedding app has not acknowledged yet; seq orders the outbox.
struct OutboxEvent {
  std::uint64_t seq = 0;  // assigned by the journal when the event is added
  TransferId transfer_id = 0;
  EventKind kind = EventKind::Completed;  // a terminal kind
  std::string message;
  UnixMillis created_at = 0;
  std::optional<Error> error;  // why it failed (Failed events)
  // Completed events: "sha256:<hex>" (or the algorithm of the transfer's checksum) of every byte
  // moved, when the engine was asked to report digests; empty otherwise (version 3).
  std::string digest;

  bool operator==(const OutboxEvent&) const = default;
};

}  // namespace xfer::store
