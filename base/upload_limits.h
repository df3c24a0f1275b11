// What a resumable-upload server allows (draft-ietf-httpbis-resumable-upload, Upload-Limit):
// parsed by protocols/upload, cached per origin by the journal.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace xfer {

struct UploadLimits {
  std::optional<std::uint64_t> max_size;
  std::optional<std::uint64_t> min_size;
  std::optional<std::uint64_t> max_append_size;
  std::optional<std::uint64_t> min_append_size;
  // Remaining lifetime of the upload resource ("expires" in v6, "max-age" in v7+).
  std::optional<std::chrono::seconds> max_age;

  bool operator==(const UploadLimits&) const = default;
};

}  // namespace xfer
