// The client-side dialects of Resumable Uploads for HTTP (draft-ietf-httpbis-resumable-upload),
// interop versions 3 to 10, as data rather than code forks: each field of UploadDialect names one
// wire difference between versions, so the upload client asks the dialect instead of branching
// on version numbers. Sources: /work/shared/reference/rufh-interop-versions.md checked against
// the draft text (-01 … -15). Promise: dialect_for(v) is defined exactly for 3 <= v <= 10.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace xfer::protocols {

inline constexpr int kMinInteropVersion = 3;
inline constexpr int kMaxInteropVersion = 10;
// The header every request carries and every 104 must echo (removed in the final RFC).
inline constexpr std::string_view kInteropVersionHeader = "Upload-Draft-Interop-Version";
inline constexpr std::string_view kPartialUploadMediaType = "application/partial-upload";

struct UploadDialect {
  int interop_version = kMaxInteropVersion;
  // v3: "Upload-Incomplete" (?1 = more data follows); v4+: "Upload-Complete" (?1 = this request
  // ends the upload).
  std::string_view completion_field = "Upload-Complete";
  bool completion_inverted = false;
  // v5+: the offset retrieval (HEAD) may answer 200 as well as 204.
  bool offset_retrieval_allows_200 = true;
  // v5+: 104 responses may repeat during a request carrying Upload-Offset progress.
  bool progress_interims = true;
  // v6+: PATCH appends must carry Content-Type: application/partial-upload.
  bool patch_requires_media_type = true;
  // v6+: Upload-Limit exists; the key for the resource lifetime ("expires" in v6, "max-age" v7+).
  bool has_upload_limit = true;
  std::string_view lifetime_limit_key = "max-age";
  // v6 (-05)+: Upload-Length may declare the total size.
  bool has_upload_length = true;
  // v3..v6: a successful append response carries Upload-Offset; v7+ it carries Upload-Complete
  // instead and Upload-Offset is optional.
  bool append_response_has_offset = false;
  bool append_response_has_completion = true;
  // v7+: a 409 offset mismatch carries the correct Upload-Offset.
  bool conflict_has_offset = true;
  // v8+: servers must announce their limits; clients must respect them.
  bool limits_mandatory = true;
  // v9+: offset retrieval may use GET as well as HEAD (we still send HEAD).
  bool offset_retrieval_allows_get = true;
  // v10+: offset-retrieval responses carry Upload-Limit, and need not carry Upload-Complete or
  // Upload-Length (a missing completion field there means "not complete").
  bool retrieval_has_limit = true;
  bool retrieval_requires_completion = false;
};

// nullopt outside [kMinInteropVersion, kMaxInteropVersion].
std::optional<UploadDialect> dialect_for(int interop_version);

// The completion header for a request that does (`completes`) or does not end the upload:
// {"Upload-Complete", "?1"} in v4+, {"Upload-Incomplete", "?0"} in v3.
std::pair<std::string, std::string> completion_header(const UploadDialect& dialect, bool completes);

// Reads the dialect's completion field value as "the upload is complete"; nullopt when it is not
// an sf-boolean.
std::optional<bool> parse_completion(const UploadDialect& dialect, std::string_view value);

// {"Upload-Draft-Interop-Version", "<n>"}.
std::pair<std::string, std::string> interop_version_header(const UploadDialect& dialect);

}  // namespace xfer::protocols
