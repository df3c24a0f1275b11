#include <xfer/error.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace xfer {

std::string_view to_string(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::Network: return "network";
    case ErrorCategory::Tls: return "tls";
    case ErrorCategory::HttpStatus: return "http";
    case ErrorCategory::Protocol: return "protocol";
    case ErrorCategory::Integrity: return "integrity";
    case ErrorCategory::LocalIo: return "local-io";
    case ErrorCategory::DiskFull: return "disk-full";
    case ErrorCategory::Journal: return "journal";
    case ErrorCategory::InvalidArgument: return "invalid-argument";
    case ErrorCategory::NotFound: return "not-found";
    case ErrorCategory::Cancelled: return "cancelled";
    case ErrorCategory::Internal: return "internal";
  }
  return "unknown";
}

std::optional<ErrorCategory> error_category_named(std::string_view name) {
  for (std::uint8_t v = 0; v <= kLastErrorCategory; ++v) {
    const auto category = static_cast<ErrorCategory>(v);
    if (to_string(category) == name) return category;
  }
  return std::nullopt;
}

std::string Error::describe() const { return fmt::format("{}: {}", to_string(category_), message_); }

Error Error::with_context(std::string_view context) const {
  Error copy = *this;
  copy.message_ = fmt::format("{}: {}", context, message_);
  return copy;
}

Error error_from_errno(int err, std::string_view what) {
  const bool full = err == ENOSPC || err == EDQUOT;
  return Error(full ? ErrorCategory::DiskFull : ErrorCategory::LocalIo,
               fmt::format("{}: {}", what, std::strerror(err)));
}

}  // namespace xfer
