// Byte-range framing fields of a download (RFC 9110 §14): building `Range`, parsing
// `Content-Range` and `Content-Length`. Pure and strict: parse functions return nullopt for
// anything malformed (signs, spaces inside numbers, overflow, first > last, last >= complete
// length, another range unit), so a caller never acts on a half-understood header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xfer::protocols {

// "bytes=<first>-" or, with `last` (inclusive), "bytes=<first>-<last>".
// Precondition: !last || *last >= first.
std::string format_range(std::uint64_t first, std::optional<std::uint64_t> last = std::nullopt);

struct ContentRange {
  // "bytes */<complete>" (as sent with 416): no range, only the complete length.
  bool unsatisfied = false;
  std::uint64_t first = 0;  // inclusive
  std::uint64_t last = 0;   // inclusive
  // nullopt for "bytes <first>-<last>/*" (length unknown to the server).
  std::optional<std::uint64_t> complete_length;

  std::uint64_t length() const { return unsatisfied ? 0 : last - first + 1; }
  bool operator==(const ContentRange&) const = default;
};

std::optional<ContentRange> parse_content_range(std::string_view value);

// 1*DIGIT; a list of identical values ("42, 42", RFC 9110 §8.6) is accepted as one value,
// differing values are not.
std::optional<std::uint64_t> parse_content_length(std::string_view value);

}  // namespace xfer::protocols
