// Range-resume decisions for downloads: which validator to send in `If-Range`, and what a
// response to a (possibly ranged) GET means for the bytes already in `dest.part`.
//
// Promises (design.md invariants 1-3): bytes are only ever appended to the partial file when
// the response provably continues the same representation at exactly our offset. Anything else
// restarts from zero (the old bytes are discarded) or is a protocol error; on doubt we never
// splice. A weak ETag is never sent in If-Range and Last-Modified is only used when it is a
// strong validator in the sense of RFC 9110 §8.8.2.2 (no ETag held at all, and Last-Modified at
// least 60 seconds before the Date of the response that carried it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/transport.h"

namespace xfer::protocols {

// An entity tag as sent on the wire: `"xyz"` or `W/"xyz"`.
struct EntityTag {
  bool weak = false;
  std::string opaque;  // without quotes
  bool operator==(const EntityTag&) const = default;
};
std::optional<EntityTag> parse_entity_tag(std::string_view value);

// What we journal about a representation to resume it later (the raw header values).
struct Validators {
  std::optional<std::string> etag;
  std::optional<std::string> last_modified;
  std::optional<std::string> date;              // Date of the response that carried them
  std::optional<std::string> content_encoding;  // as sent; nullopt = identity
  bool operator==(const Validators&) const = default;
};

// The If-Range value to send, or nullopt when nothing we hold is a strong validator
// (then a resumed request cannot be validated: restart from zero instead).
std::optional<std::string> choose_if_range(const Validators& held);

// What we asked for.
struct RangeAsk {
  std::uint64_t offset = 0;                      // first byte wanted (bytes already held)
  std::optional<std::uint64_t> last;             // inclusive end for a segment; nullopt = to EOF
  std::optional<std::uint64_t> known_length;     // representation length learned earlier
  Validators held;                               // validators learned earlier
  // Whether the request carried Range / If-Range. A request with neither offset nor last is a
  // plain GET.
  bool sent_range() const { return offset > 0 || last.has_value(); }
};

// The headers a ranged GET needs for `ask`: Range only when sent_range(), If-Range when a
// strong validator is held. `validated` is false when a resumed range (offset > 0) would go out
// without If-Range; the caller should then restart from zero instead of sending it.
struct RangeRequestHeaders {
  std::optional<std::string> range;
  std::optional<std::string> if_range;
  bool validated = true;
};
RangeRequestHeaders build_range_request(const RangeAsk& ask);

// What came back (raw header values; absent fields nullopt).
struct RangeResponse {
  int status = 0;
  std::optional<std::string> content_range;
  std::optional<std::string> content_length;
  std::optional<std::string> content_type;
  std::optional<std::string> content_encoding;
  std::optional<std::string> etag;
  std::optional<std::string> last_modified;
  std::optional<std::string> date;
  std::optional<std::string> accept_ranges;
};
RangeResponse range_response_from(const ResponseHeaders& head);

enum class RangeOutcome {
  Continue,         // write the body at write_offset (== ask.offset)
  Restart,          // discard the old bytes; see body_is_full_representation
  AlreadyComplete,  // 416 "bytes */N" with N == our offset: we hold every byte
  ProtocolError,    // the server contradicted itself or us: fail (retry policy decides)
};
std::string_view to_string(RangeOutcome outcome);

enum class RangeReason {
  None,
  RangesIgnored,       // 200 to a ranged request (server does not do ranges, or If-Range failed)
  ValidatorChanged,    // the representation's ETag / Last-Modified / encoding differs
  LengthChanged,       // 416 or 206 whose complete length disagrees with what we knew
  Unvalidated,         // 416 we cannot interpret safely
  BadStatus,           // not 200/206/416 (classify it with the retry policy first)
  UnrequestedPartial,  // 206 to a plain GET
  Multipart,           // multipart/byteranges we never ask for
  BadContentRange,     // missing, malformed or for another range
  BadContentLength,    // malformed or contradicting Content-Range
  WeakValidator,       // weak ETag on a resumed 206
};
std::string_view to_string(RangeReason reason);

struct RangeDecision {
  RangeOutcome outcome = RangeOutcome::ProtocolError;
  RangeReason reason = RangeReason::None;
  std::string detail;  // a human sentence for events and logs
  // Restart: true when this response's body is the full representation (a 200) and can be
  // written from byte 0; false when a new unranged request is needed.
  bool body_is_full_representation = false;
  std::uint64_t write_offset = 0;             // where the body's first byte belongs
  std::optional<std::uint64_t> body_length;   // bytes the body should carry, when known
  std::optional<std::uint64_t> total_length;  // representation length, when known
  Validators validators;                      // to journal (from this response when it has a body)
  bool resumable = false;                     // a strong validator and no "Accept-Ranges: none"
};

RangeDecision judge_range_response(const RangeAsk& ask, const RangeResponse& response);

}  // namespace xfer::protocols
