// Encoding of journal values (docs/journal.md, "Value encoding"):
//   [u8 version][u8 kind][fields, fixed-width little-endian / u32-length-prefixed][u32 crc32c]
// where the CRC32C covers every byte before it. Promises: decode_*(key, encode(x)) == x;
// a value with a bad checksum, an unknown version, the wrong kind, an out-of-range enum or
// trailing/missing bytes is a Journal error whose message names the key — never a value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <xfer/error.h>

#include "store/records.h"

namespace xfer::store {

// The layout version a value is written in, per kind. Transfers and events are at 2 (their
// errors are structured: category, retryable, HTTP status); version 1 values are still read,
// so a journal of an older xfer opens, and a newer version is refused as unknown rather than
// misread. The others are at 1.
std::uint8_t record_version(std::uint8_t kind);
// The layout of keys as a whole; bumped when a key schema change needs a migration.
inline constexpr std::uint32_t kSchemaVersion = 1;

enum class RecordKind : std::uint8_t { Transfer = 1, Segment = 2, Origin = 3, Event = 4, Counter = 5,
                                      Upload = 6 };

std::string encode(const TransferRecord& record);
std::string encode(const SegmentRecord& segment);
std::string encode(const OriginRecord& origin);
std::string encode(const OutboxEvent& event);
std::string encode(const UploadRecord& upload);
// Counters and the schema version.
std::string encode_counter(std::uint64_t value);

Result<TransferRecord> decode_transfer(std::string_view key, std::string_view value);
Result<SegmentRecord> decode_segment(std::string_view key, std::string_view value);
Result<OriginRecord> decode_origin(std::string_view key, std::string_view value);
Result<OutboxEvent> decode_event(std::string_view key, std::string_view value);
Result<UploadRecord> decode_upload(std::string_view key, std::string_view value);
Result<std::uint64_t> decode_counter(std::string_view key, std::string_view value);

}  // namespace xfer::store
