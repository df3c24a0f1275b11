#include "store/record_codec.h"

#include <fmt/format.h>

#include "store/byte_codec.h"
#include "store/crc32c.h"
#include "store/journal_keys.h"

namespace xfer::store {
namespace {

constexpr std::size_t kHeaderSize = 2;   // version, kind
constexpr std::size_t kTrailerSize = 4;  // crc32c

ByteWriter start(RecordKind kind) {
  ByteWriter w;
  w.u8(record_version(static_cast<std::uint8_t>(kind)));
  w.u8(static_cast<std::uint8_t>(kind));
  return w;
}

std::string finish(ByteWriter& w) {
  const std::uint32_t crc = crc32c(w.bytes());
  w.u32(crc);
  return std::move(w.bytes());
}

std::unexpected<Error> corrupt(std::string_view key, std::string_view why) {
  return fail(ErrorCategory::Journal,
              fmt::format("corrupt journal record at key {}: {}", keys::describe(key), why));
}

struct Opened {
  std::string_view fields;
  std::uint8_t version = 0;
};

// Checks framing, version, kind and checksum; returns the field bytes and their layout version.
Result<Opened> open_value(std::string_view key, std::string_view value, RecordKind kind) {
  if (value.size() < kHeaderSize + kTrailerSize)
    return corrupt(key, fmt::format("value of {} bytes is too short", value.size()));
  const std::string_view covered = value.substr(0, value.size() - kTrailerSize);
  ByteReader trailer(value.substr(value.size() - kTrailerSize));
  std::uint32_t stored = 0;
  trailer.u32(stored);
  if (crc32c(covered) != stored) return corrupt(key, "checksum mismatch");
  // The kind first: a value of another kind is misplaced, whatever its version.
  const auto got = static_cast<std::uint8_t>(value[1]);
  if (got != static_cast<std::uint8_t>(kind))
    return corrupt(key, fmt::format("record kind {} where kind {} was expected", got,
                                    static_cast<int>(kind)));
  const auto version = static_cast<std::uint8_t>(value[0]);
  const auto newest = record_version(static_cast<std::uint8_t>(kind));
  // Newer is not damage: the journal was written by a newer xfer, and nothing should be thrown away.
  if (version > newest)
    return fail(ErrorCategory::Journal,
                fmt::format("journal record at key {} has record version {}, newer than this xfer reads "
                            "(versions 1 to {}): it was written by a newer xfer; use that one, or "
                            "upgrade",
                            keys::describe(key), version, newest));
  if (version < 1) return corrupt(key, fmt::format("unknown record version {}", version));
  return Opened{covered.substr(kHeaderSize), version};
}

// An optional u64 exactly as the encoder writes it: a presence byte (0 or 1), then 8 bytes
// that are all zero when absent. Anything else is not a value this codec wrote, so the record
// is corrupt; this keeps encode(decode(bytes)) == bytes for every value accepted.
bool get_opt_u64(ByteReader& r, std::optional<std::uint64_t>& out) {
  std::uint8_t present = 0;
  std::uint64_t v = 0;
  if (!r.u8(present) || !r.u64(v) || present > 1 || (present == 0 && v != 0)) return false;
  out = present ? std::optional<std::uint64_t>(v) : std::nullopt;
  return true;
}

template <typename Enum>
bool get_enum(ByteReader& r, Enum& out, std::uint8_t max) {
  std::uint8_t v = 0;
  if (!r.u8(v) || v > max) return false;
  out = static_cast<Enum>(v);
  return true;
}

// An optional Error: a presence byte, then category, retryable and HTTP status, then its message
// unless the layout keeps the message in a text field of its own (a transfer's last error).
void put_error(ByteWriter& w, const std::optional<Error>& e, bool with_message) {
  w.u8(e ? 1 : 0);
  if (!e) return;
  w.u8(static_cast<std::uint8_t>(e->category()));
  w.u8(e->retryable() ? 1 : 0);
  w.i32(e->http_status());
  if (with_message) w.str(e->message());
}

// `own_message`: the message kept elsewhere in the record, or nullptr when it follows here.
// A record with a kept message but no error is not one this codec writes.
bool get_error(ByteReader& r, const std::string* own_message, std::optional<Error>& out) {
  std::uint8_t present = 0;
  if (!r.u8(present) || present > 1) return false;
  if (present == 0) return own_message == nullptr || own_message->empty();
  ErrorCategory category{};
  std::uint8_t retryable = 0;
  std::int32_t status = 0;
  std::string message;
  if (!get_enum(r, category, kLastErrorCategory) || !r.u8(retryable) || retryable > 1 ||
      !r.i32(status))
    return false;
  if (own_message) {
    message = *own_message;
  } else if (!r.str(message)) {
    return false;
  }
  out = Error(category, std::move(message), retryable == 1, status);
  return true;
}

// Version 1 values hold only Error::describe()'s text, "<category>: <message>": the category
// is read back from it. Retryable is what the retry policy says of the category alone (the HTTP
// status was not kept, so an HTTP error counts as final). Text naming no category (a pause by
// request wrote "paused") is no error, except on a failure, which keeps it as Internal.
std::optional<Error> legacy_error(std::string_view described, bool failed) {
  if (described.empty()) return std::nullopt;
  const auto colon = described.find(": ");
  const auto category = colon == std::string_view::npos
                            ? std::nullopt
                            : error_category_named(described.substr(0, colon));
  if (!category) {
    if (!failed) return std::nullopt;
    return Error(ErrorCategory::Internal, std::string(described));
  }
  const bool retryable = *category == ErrorCategory::Network;
  return Error(*category, std::string(described.substr(colon + 2)), retryable);
}

}  // namespace

std::uint8_t record_version(std::uint8_t kind) {
  if (kind == static_cast<std::uint8_t>(RecordKind::Upload) ||
      kind == static_cast<std::uint8_t>(RecordKind::Event))
    return 3;
  if (kind == static_cast<std::uint8_t>(RecordKind::Origin)) return 2;
  return kind == static_cast<std::uint8_t>(RecordKind::Transfer) ? 2 : 1;
}

std::string encode(const TransferRecord& t) {
  ByteWriter w = start(RecordKind::Transfer);
  w.u64(t.id);
  w.u8(static_cast<std::uint8_t>(t.direction));
  w.str(t.url);
  w.str(t.local_path);
  w.u32(static_cast<std::uint32_t>(t.request_headers.size()));
  for (const auto& [name, value] : t.request_headers) {
    w.str(name);
    w.str(value);
  }
  w.u8(static_cast<std::uint8_t>(t.protocol));
  w.u8(static_cast<std::uint8_t>(t.state));
  w.opt_u64(t.size);
  w.str(t.etag);
  w.str(t.last_modified);
  w.str(t.checksum);
  // Two slots an early layout reserved for upload state, which lives in the upload record:
  // always written empty, and a value in them is refused (no xfer ever wrote one).
  w.str(std::string());
  w.u32(0);
  w.u32(t.segment_count);
  w.u32(t.attempt_count);
  w.i64(t.next_attempt_at);
  w.str(t.last_error ? t.last_error->message() : std::string());
  w.i32(t.priority);
  w.i64(t.created_at);
  w.i64(t.updated_at);
  w.u32(static_cast<std::uint32_t>(t.withheld_secrets.size()));
  for (const auto& name : t.withheld_secrets) w.str(name);
  put_error(w, t.last_error, false);
  return finish(w);
}

Result<TransferRecord> decode_transfer(std::string_view key, std::string_view value) {
  auto opened = open_value(key, value, RecordKind::Transfer);
  if (!opened) return std::unexpected(opened.error());
  ByteReader r(opened->fields);
  TransferRecord t;
  std::string last_error;
  std::string reserved_text;
  std::uint32_t reserved_number = 0;
  std::uint32_t header_count = 0;
  bool ok = r.u64(t.id) && get_enum(r, t.direction, 1) && r.str(t.url) && r.str(t.local_path) &&
            r.u32(header_count) && header_count <= r.remaining() / 8;
  for (std::uint32_t i = 0; ok && i < header_count; ++i) {
    std::string name, val;
    ok = r.str(name) && r.str(val);
    if (ok) t.request_headers.emplace_back(std::move(name), std::move(val));
  }
  ok = ok && get_enum(r, t.protocol, 4) && get_enum(r, t.state, 6) && get_opt_u64(r, t.size) &&
       r.str(t.etag) && r.str(t.last_modified) && r.str(t.checksum) && r.str(reserved_text) &&
       reserved_text.empty() && r.u32(reserved_number) && reserved_number == 0 && r.u32(t.segment_count) && r.u32(t.attempt_count) &&
       r.i64(t.next_attempt_at) && r.str(last_error) && r.i32(t.priority) && r.i64(t.created_at) &&
       r.i64(t.updated_at);
  // Version 1 records written before withheld secrets existed end here; version 2 has them.
  if (ok && (opened->version >= 2 || !r.at_end())) {
    std::uint32_t withheld = 0;
    ok = r.u32(withheld) && withheld <= r.remaining() / 4;
    for (std::uint32_t i = 0; ok && i < withheld; ++i) {
      std::string name;
      ok = r.str(name);
      if (ok) t.withheld_secrets.push_back(std::move(name));
    }
  }
  if (opened->version >= 2)
    ok = ok && get_error(r, &last_error, t.last_error);
  else
    t.last_error = legacy_error(last_error, t.state == TransferState::Failed);
  ok = ok && r.at_end();
  if (!ok) return corrupt(key, "malformed transfer record");
  return t;
}

std::string encode(const SegmentRecord& s) {
  ByteWriter w = start(RecordKind::Segment);
  w.u64(s.transfer_id);
  w.u32(s.index);
  w.u64(s.start);
  w.opt_u64(s.end);
  w.u64(s.offset);
  return finish(w);
}

Result<SegmentRecord> decode_segment(std::string_view key, std::string_view value) {
  auto opened = open_value(key, value, RecordKind::Segment);
  if (!opened) return std::unexpected(opened.error());
  ByteReader r(opened->fields);
  SegmentRecord s;
  if (!(r.u64(s.transfer_id) && r.u32(s.index) && r.u64(s.start) && get_opt_u64(r, s.end) &&
        r.u64(s.offset) && r.at_end()))
    return corrupt(key, "malformed segment record");
  return s;
}

std::string encode(const OriginRecord& o) {
  ByteWriter w = start(RecordKind::Origin);
  w.str(o.origin);
  w.u32(static_cast<std::uint32_t>(o.alt_svc.size()));
  for (const auto& e : o.alt_svc) {
    w.str(e.alpn);
    w.str(e.host);
    w.u16(e.port);
    w.i64(e.expires_at);
  }
  w.u32(o.upload_interop_version);
  w.opt_u64(o.upload_limits.max_size);
  w.opt_u64(o.upload_limits.min_size);
  w.opt_u64(o.upload_limits.max_append_size);
  w.opt_u64(o.upload_limits.min_append_size);
  w.opt_u64(o.upload_limits.max_age ? std::optional<std::uint64_t>(o.upload_limits.max_age->count())
                                     : std::nullopt);
  w.i64(o.updated_at);
  w.i64(o.h3_broken_until);
  return finish(w);
}

Result<OriginRecord> decode_origin(std::string_view key, std::string_view value) {
  auto opened = open_value(key, value, RecordKind::Origin);
  if (!opened) return std::unexpected(opened.error());
  ByteReader r(opened->fields);
  OriginRecord o;
  std::optional<std::uint64_t> max_age;
  std::uint32_t count = 0;
  bool ok = r.str(o.origin) && r.u32(count) && count <= r.remaining() / 18;
  for (std::uint32_t i = 0; ok && i < count; ++i) {
    AlternativeService e;
    ok = r.str(e.alpn) && r.str(e.host) && r.u16(e.port) && r.i64(e.expires_at);
    if (ok) o.alt_svc.push_back(std::move(e));
  }
  ok = ok && r.u32(o.upload_interop_version) && get_opt_u64(r, o.upload_limits.max_size) &&
       get_opt_u64(r, o.upload_limits.min_size) &&
       get_opt_u64(r, o.upload_limits.max_append_size) &&
       get_opt_u64(r, o.upload_limits.min_append_size) &&
       get_opt_u64(r, max_age) && r.i64(o.updated_at);
  // Version 1 records end here; version 2 knows when HTTP/3 broke.
  if (ok && opened->version >= 2) ok = r.i64(o.h3_broken_until);
  ok = ok && r.at_end();
  if (!ok || (max_age && *max_age > static_cast<std::uint64_t>(INT64_MAX)))
    return corrupt(key, "malformed origin record");
  if (max_age) o.upload_limits.max_age = std::chrono::seconds(static_cast<std::int64_t>(*max_age));
  return o;
}

std::string encode(const OutboxEvent& e) {
  ByteWriter w = start(RecordKind::Event);
  w.u64(e.seq);
  w.u64(e.transfer_id);
  w.u8(static_cast<std::uint8_t>(e.kind));
  w.str(e.message);
  w.i64(e.created_at);
  put_error(w, e.error, true);
  w.str(e.digest);
  return finish(w);
}

Result<OutboxEvent> decode_event(std::string_view key, std::string_view value) {
  auto opened = open_value(key, value, RecordKind::Event);
  if (!opened) return std::unexpected(opened.error());
  ByteReader r(opened->fields);
  OutboxEvent e;
  bool ok = r.u64(e.seq) && r.u64(e.transfer_id) && get_enum(r, e.kind, 2) && r.str(e.message) &&
            r.i64(e.created_at);
  if (opened->version >= 2) {
    ok = ok && get_error(r, nullptr, e.error);
  } else if (ok && e.kind == EventKind::Failed) {
    e.error = legacy_error(e.message, true);
  }
  // Versions 1 and 2 end here; version 3 carries the completed transfer's digest.
  if (opened->version >= 3) ok = ok && r.str(e.digest);
  if (!(ok && r.at_end())) return corrupt(key, "malformed outbox event");
  return e;
}

std::string encode(const UploadRecord& u) {
  ByteWriter w = start(RecordKind::Upload);
  w.u64(u.transfer_id);
  w.u8(static_cast<std::uint8_t>(u.protocol));
  w.u32(u.interop_version);
  w.u8(static_cast<std::uint8_t>(u.creation));
  w.u64(u.chunk_size);
  w.u8(u.restart_if_source_changed ? 1 : 0);
  w.str(u.method);
  w.u8(u.replay_non_idempotent ? 1 : 0);
  w.u64(u.source_size);
  w.i64(u.source_mtime_ns);
  w.u64(u.source_inode);
  w.u64(u.source_device);
  w.str(u.resource_url);
  w.u64(u.acked_offset);
  w.i64(u.expires_at);
  w.opt_u64(u.sent_bound);  // version 2
  w.u8(u.source_open_ended ? 1 : 0);  // version 3
  return finish(w);
}

Result<UploadRecord> decode_upload(std::string_view key, std::string_view value) {
  auto opened = open_value(key, value, RecordKind::Upload);
  if (!opened) return std::unexpected(opened.error());
  ByteReader r(opened->fields);
  UploadRecord u;
  std::uint8_t restart = 0, replay = 0, open_ended = 0;
  if (!(r.u64(u.transfer_id) && get_enum(r, u.protocol, 2) && r.u32(u.interop_version) &&
        get_enum(r, u.creation, 2) && r.u64(u.chunk_size) && r.u8(restart) && restart <= 1 &&
        r.str(u.method) && r.u8(replay) && replay <= 1 && r.u64(u.source_size) && r.i64(u.source_mtime_ns) && r.u64(u.source_inode) &&
        r.u64(u.source_device) && r.str(u.resource_url) && r.u64(u.acked_offset) &&
        r.i64(u.expires_at) && (opened->version < 2 || get_opt_u64(r, u.sent_bound)) &&
        (opened->version < 3 || (r.u8(open_ended) && open_ended <= 1)) && r.at_end()))
    return corrupt(key, "malformed upload record");
  u.restart_if_source_changed = restart == 1;
  u.source_open_ended = open_ended == 1;
  u.replay_non_idempotent = replay == 1;
  return u;
}

std::string encode_counter(std::uint64_t value) {
  ByteWriter w = start(RecordKind::Counter);
  w.u64(value);
  return finish(w);
}

Result<std::uint64_t> decode_counter(std::string_view key, std::string_view value) {
  auto opened = open_value(key, value, RecordKind::Counter);
  if (!opened) return std::unexpected(opened.error());
  ByteReader r(opened->fields);
  std::uint64_t v = 0;
  if (!(r.u64(v) && r.at_end())) return corrupt(key, "malformed counter");
  return v;
}

}  // namespace xfer::store
