#include "testserver/app/upload_dialect.h"

#include <fmt/format.h>

#include "testserver/app/structured_fields.h"

namespace xts {

std::expected<UploadDialect, std::string> UploadDialect::of(const Request& req, int fallback) {
  UploadDialect d;
  d.version = fallback;
  if (const auto* v = req.header("upload-draft-interop-version")) {
    const auto n = parse_sf_integer(*v);
    if (!n || *n < kMinInterop || *n > kLatestInterop)
      return std::unexpected(fmt::format("unsupported Upload-Draft-Interop-Version '{}' (this server speaks {}..{})",
                                         *v, kMinInterop, kLatestInterop));
    d.version = static_cast<int>(*n);
    d.announced = true;
  }
  return d;
}

std::optional<bool> UploadDialect::request_complete(const Request& req) const {
  if (uses_incomplete_field()) {
    const auto* h = req.header("upload-incomplete");
    if (h == nullptr) return std::nullopt;
    const auto b = parse_sf_boolean(*h);
    if (!b) return std::nullopt;
    return !*b;
  }
  const auto* h = req.header("upload-complete");
  if (h == nullptr) return std::nullopt;
  return parse_sf_boolean(*h);
}

Header UploadDialect::complete_header(bool complete) const {
  if (uses_incomplete_field()) return {"upload-incomplete", complete ? "?0" : "?1"};
  return {"upload-complete", complete ? "?1" : "?0"};
}

std::string UploadDialect::limit_value(const UploadLimits& limits, std::int64_t expires,
                                       std::int64_t now) const {
  std::string out = fmt::format("max-size={}, min-size={}", limits.max_size, limits.min_size);
  if (limits.max_append_size) out += fmt::format(", max-append-size={}", *limits.max_append_size);
  if (limits.min_append_size) out += fmt::format(", min-append-size={}", *limits.min_append_size);
  const auto remaining = expires > now ? expires - now : 0;
  out += fmt::format(", {}={}", version <= 6 ? "expires" : "max-age", remaining);
  return out;
}

}  // namespace xts
