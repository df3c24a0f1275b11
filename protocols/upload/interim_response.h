// Validation of `104 (Upload Resumption Supported)` interim responses on the client, and the URL
// helpers it needs. A 104 is only believed when it echoes our Upload-Draft-Interop-Version
// (otherwise it is ignored, as the draft requires). Its Location is resolved against the request
// URL (RFC 3986 §5.2) and must stay on the request's origin: the upload resource receives the
// same credentials as the creation request, and design.md invariant 7 forbids sending them
// cross-origin. Location must not change between interims (nor from a URL already journaled),
// and progress offsets must never go backwards (draft §104; reliability INV-4).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <xfer/error.h>

#include "protocols/transport.h"
#include "protocols/upload/upload_dialect.h"
#include "protocols/upload/upload_fields.h"

namespace xfer::protocols {

// An absolute http(s) URL split into what origin checks need. Userinfo is rejected.
struct HttpUrl {
  std::string scheme;  // "http" or "https" (lower case)
  std::string host;    // lower case; IPv6 literals keep their brackets
  std::uint16_t port = 0;  // explicit or the scheme's default
  std::string path;    // path + query, starts with '/'
  std::string origin() const;  // "scheme://host:port"
  std::string to_string() const;
};

std::optional<HttpUrl> parse_http_url(std::string_view url);
// RFC 3986 §5.2 reference resolution (absolute, network-path, absolute-path and relative
// references; dot segments removed; fragment dropped). Fails when the result is not http(s).
Result<HttpUrl> resolve_url(const HttpUrl& base, std::string_view reference);
bool same_origin(const HttpUrl& a, const HttpUrl& b);

enum class InterimVerdict {
  Ignore,     // not a 104, or not for our interop version: pretend it never arrived
  Accept,     // use `upload_url` / `offset` / `limits`
  Violation,  // the server broke the protocol (or tried to send us cross-origin): abort
};

struct InterimDecision {
  InterimVerdict verdict = InterimVerdict::Ignore;
  std::string reason;
  std::optional<std::string> upload_url;  // resolved absolute URL from Location
  std::optional<std::uint64_t> offset;    // Upload-Offset progress
  std::optional<UploadLimits> limits;     // Upload-Limit (nullopt when absent or invalid)
};

// `known_upload_url`: the upload URL already learned for this upload (from an earlier 104 or the
// journal); `last_offset`: the highest offset the server has reported so far.
InterimDecision judge_interim(const ResponseHeaders& interim, const UploadDialect& dialect,
                              const HttpUrl& request_url,
                              const std::optional<std::string>& known_upload_url,
                              std::optional<std::uint64_t> last_offset);

}  // namespace xfer::protocols
