// The resumable-upload header fields, parsed strictly as structured fields (RFC 9651):
// Upload-Offset and Upload-Length (non-negative sf-integers; parameters ignored), Upload-Limit
// (sf-dictionary; unknown keys ignored; a known key with a value of the wrong type or a negative
// value makes the whole field invalid, which the draft lets the client ignore), and the append-
// size rule that keeps appends inside [min-append-size, max-append-size].
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <xfer/error.h>

#include "base/upload_limits.h"
#include "protocols/upload/upload_dialect.h"

namespace xfer::protocols {

std::optional<std::uint64_t> parse_upload_offset(std::string_view value);
std::optional<std::uint64_t> parse_upload_length(std::string_view value);
// An sf-integer for Upload-Offset / Upload-Length (values above 999999999999999 cannot be sent).
std::optional<std::string> format_upload_integer(std::uint64_t value);

// Protocol error for a malformed field or a known key of the wrong type; the caller may ignore
// the field (draft §Upload-Limit).
Result<UploadLimits> parse_upload_limit(std::string_view value, const UploadDialect& dialect);

// Can `total` bytes be uploaded at all under `limits`? (InvalidArgument naming the limit if not.)
Result<void> check_total_size(const UploadLimits& limits, std::uint64_t total);

// How many bytes the next append should carry when `remaining` bytes are left: at most
// max-append-size; 0 when `remaining` is 0. A final append may be smaller than min-append-size;
// a non-final one may not (an error when `preferred` cannot satisfy it).
Result<std::uint64_t> next_append_size(const UploadLimits& limits, std::uint64_t remaining,
                                       std::uint64_t preferred);

}  // namespace xfer::protocols
