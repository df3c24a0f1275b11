// UploadDialect: how one interop version (3..10) of the Resumable Uploads draft spells things
// on the wire — completeness field and polarity, Upload-Limit keys, which status answers an
// append, whether the media type and problem types exist. Versions are data here, not forks.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>

#include "testserver/app/upload_store.h"
#include "testserver/exchange.h"

namespace xts {

inline constexpr int kMinInterop = 3;
inline constexpr int kLatestInterop = 10;

struct UploadDialect {
  int version = kLatestInterop;
  bool announced = false;  // the client sent Upload-Draft-Interop-Version

  // The request's version: its Upload-Draft-Interop-Version, or `fallback` without one.
  // An unsupported or malformed value is an error.
  static std::expected<UploadDialect, std::string> of(const Request& req, int fallback);

  bool uses_incomplete_field() const { return version == 3; }        // Upload-Incomplete
  bool requires_media_type() const { return version >= 6; }          // application/partial-upload
  bool has_limits() const { return version >= 6; }                   // Upload-Limit field
  bool has_length() const { return version >= 6; }                   // Upload-Length field
  bool has_problem_types() const { return version >= 6; }
  bool has_inconsistent_length_type() const { return version >= 7; }
  bool has_completed_upload_type() const { return version >= 6 && version <= 8; }
  bool get_retrieves_offset() const { return version >= 9; }
  // 10 (-13): offset retrieval must carry Upload-Limit, and need not carry Upload-Complete
  // (sent only once complete) or Upload-Length (not sent), so clients meet both shapes.
  bool retrieval_has_state_fields() const { return version <= 9; }
  // HEAD/DELETE carrying Upload-Offset/-Complete(-Incomplete)/-Length is a 400 in 3..6.
  bool rejects_state_fields_on_head() const { return version <= 6; }
  int incomplete_append_status() const { return version <= 6 ? 201 : 204; }

  // The request's completeness: true = this request ends the upload; nullopt = field absent or
  // invalid (which the draft says to ignore).
  std::optional<bool> request_complete(const Request& req) const;
  // Response field announcing completeness.
  Header complete_header(bool complete) const;
  std::string limit_value(const UploadLimits& limits, std::int64_t expires, std::int64_t now) const;
};

}  // namespace xts
