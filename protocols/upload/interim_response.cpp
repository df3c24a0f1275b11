#include "protocols/upload/interim_response.h"

#include <fmt/format.h>

namespace xfer::protocols {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The same upload resource: one origin (so ":443" and no port are one), one path and query.
bool same_resource(const Url& a, const Url& b) {
  return a.origin() == b.origin() && a.path == b.path && a.query == b.query;
}

}  // namespace

Result<std::string> resolve_resource_location(std::string_view location, const Url& request_url,
                                              const std::optional<std::string>& known_upload_url) {
  // Against the request URL without its userinfo: a relative Location inherits the base's
  // authority, and only userinfo the server wrote itself is the violation.
  Url base = request_url;
  base.userinfo.reset();
  auto resolved = base.resolve(trim(location));
  if (!resolved)
    return fail(ErrorCategory::Protocol, fmt::format("Location: {}", resolved.error().message()));
  if (!resolved->is_http())
    return fail(ErrorCategory::Protocol, fmt::format("Location is not http(s): {}", resolved->scheme));
  if (resolved->userinfo) return fail(ErrorCategory::Protocol, "Location carries userinfo");
  // Another origin is allowed (uploads are often handed to a storage host); the request
  // builder withholds credentials there. Leaving TLS is not: the file would travel in clear.
  if (request_url.scheme == "https" && resolved->scheme != "https")
    return fail(ErrorCategory::Protocol,
                fmt::format("Location {} leaves https for {}", resolved->without_fragment(),
                            resolved->scheme));
  std::string url = resolved->without_fragment();
  if (known_upload_url) {
    const auto known = Url::parse_http(*known_upload_url);
    if (!known || !same_resource(*known, *resolved))
      return fail(ErrorCategory::Protocol,
                  fmt::format("Location changed from {} to {}", *known_upload_url, url));
  }
  return url;
}

InterimDecision judge_interim(const ResponseHeaders& interim, const UploadDialect& dialect,
                              const Url& request_url,
                              const std::optional<std::string>& known_upload_url,
                              std::optional<std::uint64_t> last_offset) {
  InterimDecision d;
  const auto violation = [&](std::string why) {
    InterimDecision v;
    v.verdict = InterimVerdict::Violation;
    v.reason = std::move(why);
    return v;
  };
  if (interim.status != 104) {
    d.reason = fmt::format("interim status {} is not 104", interim.status);
    return d;
  }
  const auto* version = interim.find("upload-draft-interop-version");
  if (version == nullptr || trim(*version) != fmt::format("{}", dialect.interop_version)) {
    d.reason = fmt::format("104 for interop version '{}', we speak {}",
                           version ? trim(*version).substr(0, 20) : std::string_view("none"),
                           dialect.interop_version);
    return d;
  }
  if (const auto* location = interim.find("location")) {
    auto url = resolve_resource_location(*location, request_url, known_upload_url);
    if (!url) return violation("104 " + url.error().message());
    d.upload_url = std::move(*url);
  }
  if (const auto* offset_text = interim.find("upload-offset")) {
    const auto offset = parse_upload_offset(*offset_text);
    if (!offset) return violation(fmt::format("malformed Upload-Offset '{}'", offset_text->substr(0, 40)));
    if (last_offset && *offset < *last_offset) {
      return violation(fmt::format("Upload-Offset went backwards from {} to {}", *last_offset, *offset));
    }
    d.offset = offset;
  }
  if (const auto* limit_text = interim.find("upload-limit"); limit_text && dialect.has_upload_limit) {
    auto limits = parse_upload_limit(*limit_text, dialect);
    if (limits) d.limits = *limits;  // an invalid Upload-Limit is ignored, as the draft allows
  }
  d.verdict = InterimVerdict::Accept;
  return d;
}

}  // namespace xfer::protocols
