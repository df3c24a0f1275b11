// The records the journal keeps: what the engine must remember across a crash. Plain values;
// encoding, versioning and checksums live in store/record_codec.h. Times are Unix milliseconds
// (wall clock) because they must survive a reboot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace xfer::store {

using TransferId = std::uint64_t;
using UnixMillis = std::int64_t;

enum class Direction : std::uint8_t { Download = 0, Upload = 1 };

enum class ProtocolPreference : std::uint8_t { Any = 0, Http1 = 1, Http2 = 2, Http3 = 3 };

// Queued/Active/Paused/Waiting are "unfinished": they come back after a restart.
enum class TransferState : std::uint8_t {
  Queued = 0,     // admitted to the journal, not started
  Active = 1,     // moving bytes (after a crash: resume it)
  Paused = 2,     // paused by the user or by a local error (disk full); kept
  Waiting = 3,    // waiting for next_attempt_at after a retryable failure
  Completed = 4,  // verified and at its destination
  Failed = 5,     // gave up: final error or retry budget exhausted
  Cancelled = 6,
};

bool is_unfinished(TransferState state);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct TransferRecord {
  TransferId id = 0;
  Direction direction = Direction::Download;
  std::string url;
  std::string local_path;  // destination (download) or source (upload)
  HeaderList request_headers;
  ProtocolPreference protocol = ProtocolPreference::Any;
  TransferState state = TransferState::Queued;
  std::optional<std::uint64_t> size;  // total size when known
  std::string etag;                   // validators of the representation being resumed
  std::string last_modified;
  std::string checksum;               // user-supplied "sha256:<hex>", empty if none
  std::string upload_url;             // upload resource (from 104/201 Location)
  std::uint32_t upload_interop_version = 0;
  std::uint32_t segment_count = 1;
  std::uint32_t attempt_count = 0;
  UnixMillis next_attempt_at = 0;
  std::string last_error;
  std::int32_t priority = 0;  // higher runs first
  UnixMillis created_at = 0;
  UnixMillis updated_at = 0;
  // Names of the secrets (URL userinfo, Authorization, ...) that were given at enqueue and
  // deliberately not journaled: a later process must be given them again.
  std::vector<std::string> withheld_secrets;

  bool operator==(const TransferRecord&) const = default;
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

struct AltSvcEntry {
  std::string alpn;  // "h3", "h2"
  std::string host;  // empty = same host
  std::uint16_t port = 0;
  UnixMillis expires_at = 0;

  bool operator==(const AltSvcEntry&) const = default;
};

struct UploadLimits {
  std::optional<std::uint64_t> max_size;
  std::optional<std::uint64_t> min_size;
  std::optional<std::uint64_t> max_append_size;
  std::optional<std::uint64_t> min_append_size;
  std::optional<std::uint64_t> max_age_seconds;

  bool operator==(const UploadLimits&) const = default;
};

// What we learned about one origin ("https://host:port").
struct OriginRecord {
  std::string origin;
  std::vector<AltSvcEntry> alt_svc;
  std::uint32_t upload_interop_version = 0;  // 0 = unknown / not supported
  UploadLimits upload_limits;
  UnixMillis updated_at = 0;

  bool operator==(const OriginRecord&) const = default;
};

enum class EventKind : std::uint8_t { Completed = 0, Failed = 1, Cancelled = 2 };

// An event the embedding app has not acknowledged yet; seq orders the outbox.
struct OutboxEvent {
  std::uint64_t seq = 0;  // assigned by the journal when the event is added
  TransferId transfer_id = 0;
  EventKind kind = EventKind::Completed;
  std::string message;
  UnixMillis created_at = 0;

  bool operator==(const OutboxEvent&) const = default;
};

}  // namespace xfer::store
