#include "protocols/upload/upload_dialect.h"

#include <fmt/format.h>

#include "protocols/http/structured_fields.h"

namespace xfer::protocols {

std::optional<UploadDialect> dialect_for(int v) {
  if (v < kMinInteropVersion || v > kMaxInteropVersion) return std::nullopt;
  UploadDialect d;
  d.interop_version = v;
  d.completion_field = v == 3 ? "Upload-Incomplete" : "Upload-Complete";
  d.completion_inverted = v == 3;
  d.offset_retrieval_allows_200 = v >= 5;
  d.progress_interims = v >= 5;
  d.patch_requires_media_type = v >= 6;
  d.has_upload_limit = v >= 6;
  d.lifetime_limit_key = v < 6 ? "" : (v == 6 ? "expires" : "max-age");
  d.has_upload_length = v >= 6;
  d.append_response_has_offset = v <= 6;
  d.append_response_has_completion = v >= 7;
  d.conflict_has_offset = v >= 7;
  d.limits_mandatory = v >= 8;
  d.offset_retrieval_allows_get = v >= 9;
  d.retrieval_has_limit = v >= 10;
  d.retrieval_requires_completion = v <= 9;
  return d;
}

std::pair<std::string, std::string> completion_header(const UploadDialect& dialect, bool completes) {
  const bool value = dialect.completion_inverted ? !completes : completes;
  return {std::string(dialect.completion_field), sf::serialize_boolean(value)};
}

std::optional<bool> parse_completion(const UploadDialect& dialect, std::string_view value) {
  const auto item = sf::parse_item(value);
  if (!item) return std::nullopt;
  const auto* flag = std::get_if<bool>(&item->value);
  if (flag == nullptr) return std::nullopt;
  return dialect.completion_inverted ? !*flag : *flag;
}

std::pair<std::string, std::string> interop_version_header(const UploadDialect& dialect) {
  return {std::string(kInteropVersionHeader), fmt::format("{}", dialect.interop_version)};
}

}  // namespace xfer::protocols
