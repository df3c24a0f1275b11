// Just enough of RFC 9651 Structured Fields for the upload headers: Integer items
// (Upload-Offset, Upload-Length, Upload-Draft-Interop-Version), Boolean items (Upload-Complete,
// Upload-Incomplete), Dictionaries of Integers (Upload-Limit) and of Byte Sequences
// (Repr-Digest). Parameters are skipped.
// Anything else parses as "invalid" (nullopt) so callers can answer 400.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace xts {

std::optional<std::int64_t> parse_sf_integer(std::string_view value);
std::optional<bool> parse_sf_boolean(std::string_view value);
std::optional<std::map<std::string, std::int64_t>> parse_sf_int_dictionary(std::string_view value);
// Members' values are returned as their base64 text (between the colons), checked for alphabet.
std::optional<std::map<std::string, std::string>> parse_sf_bytes_dictionary(std::string_view value);

}  // namespace xts
