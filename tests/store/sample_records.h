// Fully populated sample records for the journal tests: every field set to a non-default
// value, so a round trip that drops or swaps a field fails.
#pragma once

#include <string>

#include "store/records.h"

namespace xfer::test {

inline store::TransferRecord sample_transfer(TransferId id, std::int32_t priority = 0,
                                             std::int64_t created_at = 1'700'000'000'000) {
  store::TransferRecord t;
  t.id = id;
  t.direction = Direction::Upload;
  t.url = "https://example.test:8443/upload/" + std::to_string(id);
  t.local_path = "/data/files/" + std::to_string(id) + ".bin";
  t.request_headers = {{"Authorization", "Bearer abc"}, {"X-Empty", ""}};
  t.protocol = HttpVersion::Http3;
  t.state = TransferState::Active;
  t.size = 123'456'789'012ull;
  t.etag = "\"etag-1\"";
  t.last_modified = "Tue, 15 Nov 1994 12:45:26 GMT";
  t.checksum = "sha256:00ff";
  t.segment_count = 4;
  t.attempt_count = 3;
  t.next_attempt_at = 1'700'000'123'000;
  t.last_error = Error(ErrorCategory::Network, "connection reset", true);
  t.priority = priority;
  t.created_at = created_at;
  t.updated_at = created_at + 5;
  return t;
}

inline store::SegmentRecord sample_segment(TransferId id, std::uint32_t index, std::uint64_t offset = 4096) {
  store::SegmentRecord s;
  s.transfer_id = id;
  s.index = index;
  s.start = index * 1'000'000ull;
  s.end = (index + 1) * 1'000'000ull;
  s.offset = s.start + offset;
  return s;
}

inline store::OriginRecord sample_origin(const std::string& origin) {
  store::OriginRecord o;
  o.origin = origin;
  o.alt_svc = {{"h3", "", 443, 1'700'000'999'000}, {"h2", "alt.example.test", 8443, 1'700'000'888'000}};
  o.upload_interop_version = 6;
  o.upload_limits.max_size = 1ull << 40;
  o.upload_limits.min_append_size = 16384;
  o.upload_limits.max_age = std::chrono::seconds(3600);
  o.updated_at = 1'700'000'000'777;
  o.h3_broken_until = 1'700'000'600'000;
  return o;
}

inline store::UploadRecord sample_upload(TransferId id) {
  store::UploadRecord u;
  u.transfer_id = id;
  u.protocol = UploadProtocol::Tus;
  u.interop_version = 6;
  u.creation = UploadCreation::Careful;
  u.chunk_size = 1 << 20;
  u.restart_if_source_changed = true;
  u.method = "POST";
  u.replay_non_idempotent = true;
  u.source_size = 123'456'789'012ull;
  u.source_mtime_ns = 1'700'000'000'123'456'789;
  u.source_inode = 987'654;
  u.source_device = 2049;
  u.resource_url = "https://example.test:8443/resumable/abc";
  u.acked_offset = 65'536;
  u.expires_at = 1'700'000'360'000;
  u.sent_bound = 1 << 21;
  u.source_open_ended = true;
  return u;
}

inline store::OutboxEvent sample_event(TransferId id) {
  store::OutboxEvent e;
  e.transfer_id = id;
  e.kind = EventKind::Failed;
  e.message = "integrity: sha256 mismatch";
  e.error = Error(ErrorCategory::Integrity, "sha256 mismatch");
  e.created_at = 1'700'000'000'555;
  return e;
}

}  // namespace xfer::test
