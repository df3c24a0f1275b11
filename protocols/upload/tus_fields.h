// tus 1.0 (https://tus.io/protocols/resumable-upload), the header fields of the client side:
// core (Tus-Resumable on every request but OPTIONS; Upload-Offset and Upload-Length as plain
// non-negative decimal integers; bodies typed application/offset+octet-stream), discovery
// (OPTIONS answers Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm), creation
// (Upload-Metadata) and expiration (Upload-Expires, an HTTP date). Parsing is strict: a number
// with a sign, spaces or more digits than fit is not a number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xfer/error.h>

#include "protocols/transport.h"

namespace xfer::protocols {

inline constexpr std::string_view kTusVersion = "1.0.0";
inline constexpr std::string_view kTusResumableHeader = "Tus-Resumable";
inline constexpr std::string_view kTusBodyMediaType = "application/offset+octet-stream";
// tus's own status for a body that does not match its Upload-Checksum (checksum extension).
inline constexpr int kTusChecksumMismatch = 460;

// What a tus server said it speaks in its OPTIONS response.
struct TusCapabilities {
  std::vector<std::string> versions;    // Tus-Version, most preferred first
  std::vector<std::string> extensions;  // Tus-Extension
  std::optional<std::uint64_t> max_size;
  std::vector<std::string> checksum_algorithms;  // lower-case

  bool speaks_1_0() const;
  bool has(std::string_view extension) const;
};

// From a 2xx OPTIONS response. Protocol error when Tus-Version is missing (not a tus server)
// or Tus-Max-Size is not a number.
Result<TusCapabilities> parse_tus_capabilities(const ResponseHeaders& head);

// 1*DIGIT with at most 18 digits (so it fits and sums of two do too); nullopt otherwise.
std::optional<std::uint64_t> parse_tus_integer(std::string_view value);

// "key base64(value),key2 base64(value2)". Keys are ASCII without spaces or commas, unique,
// non-empty; a pair that breaks that rule is left out (the caller's keys are fixed names).
std::string format_tus_metadata(const std::vector<std::pair<std::string, std::string>>& pairs);

// The comma-separated list of a header such as Tus-Extension, each member trimmed, empty ones
// dropped.
std::vector<std::string> split_tus_list(std::string_view value);

}  // namespace xfer::protocols
