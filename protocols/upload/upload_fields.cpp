#include "protocols/upload/upload_fields.h"

#include <algorithm>

#include <fmt/format.h>

#include "protocols/http/structured_fields.h"

namespace xfer::protocols {
namespace {

std::optional<std::uint64_t> non_negative_integer(std::string_view value) {
  const auto item = sf::parse_item(value);
  if (!item) return std::nullopt;
  const auto* number = std::get_if<std::int64_t>(&item->value);
  if (number == nullptr || *number < 0) return std::nullopt;
  return static_cast<std::uint64_t>(*number);
}

Error protocol(std::string message) { return Error(ErrorCategory::Protocol, std::move(message)); }

}  // namespace

std::optional<std::uint64_t> parse_upload_offset(std::string_view value) {
  return non_negative_integer(value);
}

std::optional<std::uint64_t> parse_upload_length(std::string_view value) {
  return non_negative_integer(value);
}

std::optional<std::string> format_upload_integer(std::uint64_t value) {
  if (value > static_cast<std::uint64_t>(sf::kMaxInteger)) return std::nullopt;
  return sf::serialize_integer(static_cast<std::int64_t>(value));
}

Result<UploadLimits> parse_upload_limit(std::string_view value, const UploadDialect& dialect) {
  const auto dict = sf::parse_dictionary(value);
  if (!dict) return std::unexpected(protocol("Upload-Limit is not an sf-dictionary"));
  UploadLimits limits;
  for (const auto& [key, member] : *dict) {
    std::optional<std::uint64_t>* slot = nullptr;
    const bool lifetime = !dialect.lifetime_limit_key.empty() && key == dialect.lifetime_limit_key;
    if (key == "max-size") slot = &limits.max_size;
    else if (key == "min-size") slot = &limits.min_size;
    else if (key == "max-append-size") slot = &limits.max_append_size;
    else if (key == "min-append-size") slot = &limits.min_append_size;
    else if (!lifetime) continue;  // unknown keys are ignored
    const auto* number = sf::get_if_item<std::int64_t>(&member);
    if (number == nullptr || *number < 0) {
      return std::unexpected(protocol(fmt::format("Upload-Limit member {} is not a non-negative integer", key)));
    }
    if (lifetime) {
      limits.max_age = std::chrono::seconds(*number);
    } else {
      *slot = static_cast<std::uint64_t>(*number);
    }
  }
  if (limits.min_append_size && limits.max_append_size && *limits.min_append_size > *limits.max_append_size) {
    return std::unexpected(protocol("Upload-Limit min-append-size exceeds max-append-size"));
  }
  return limits;
}

Result<void> check_total_size(const UploadLimits& limits, std::uint64_t total) {
  if (limits.max_size && total > *limits.max_size) {
    return std::unexpected(Error(ErrorCategory::InvalidArgument,
                                 fmt::format("upload of {} bytes exceeds the server's max-size {}", total,
                                             *limits.max_size)));
  }
  return {};
}

Result<std::uint64_t> next_append_size(const UploadLimits& limits, std::uint64_t remaining,
                                       std::uint64_t preferred) {
  if (remaining == 0) return std::uint64_t{0};
  std::uint64_t size = remaining;
  if (preferred > 0) size = std::min(size, preferred);
  if (limits.max_append_size) size = std::min(size, *limits.max_append_size);
  if (size < remaining && limits.min_append_size && size < *limits.min_append_size) {
    size = std::min(*limits.min_append_size, remaining);
    if (limits.max_append_size && size > *limits.max_append_size) {
      return std::unexpected(protocol("no append size satisfies min-append-size and max-append-size"));
    }
  }
  if (size == 0) return std::unexpected(protocol("max-append-size 0 leaves no way to append"));
  return size;
}

}  // namespace xfer::protocols
