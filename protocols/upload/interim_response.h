// Validation of `104 (Upload Resumption Supported)` interim responses on the client. A 104 is
// only believed when it echoes our Upload-Draft-Interop-Version (otherwise it is ignored, as the
// draft requires). Its Location is resolved against the request URL by the one strict URL
// parser (protocols/http/url.h). It may name another origin — the request builder then
// withholds credentials (design.md invariant 7) — but never leave https. Location must not
// change between interims (nor from a URL already journaled), and progress offsets must never
// go backwards (draft §104; reliability INV-4).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <xfer/error.h>

#include "protocols/http/url.h"
#include "protocols/transport.h"
#include "protocols/upload/upload_dialect.h"
#include "protocols/upload/upload_fields.h"

namespace xfer::protocols {

enum class InterimVerdict {
  Ignore,     // not a 104, or not for our interop version: pretend it never arrived
  Accept,     // use `upload_url` / `offset` / `limits`
  Violation,  // the server broke the protocol (or tried to take the body out of TLS): abort
};

struct InterimDecision {
  InterimVerdict verdict = InterimVerdict::Ignore;
  std::string reason;
  std::optional<std::string> upload_url;  // resolved absolute URL from Location, no fragment
  std::optional<std::uint64_t> offset;    // Upload-Offset progress
  std::optional<UploadLimits> limits;     // Upload-Limit (nullopt when absent or invalid)
};

// The upload resource a Location names (in a 104 or a creation response): resolved against the
// request URL (its userinfo dropped), without fragment. A Protocol error when it is not http(s),
// carries userinfo, turns https into http, or names another resource than `known_upload_url`.
Result<std::string> resolve_resource_location(std::string_view location, const Url& request_url,
                                              const std::optional<std::string>& known_upload_url);

// `known_upload_url`: the upload URL already learned for this upload (from an earlier 104 or the
// journal); `last_offset`: the highest offset the server has reported so far. A Location that
// carries userinfo is a violation: credentials go in headers, never in a URL a server chose.
InterimDecision judge_interim(const ResponseHeaders& interim, const UploadDialect& dialect,
                              const Url& request_url,
                              const std::optional<std::string>& known_upload_url,
                              std::optional<std::uint64_t> last_offset);

}  // namespace xfer::protocols
