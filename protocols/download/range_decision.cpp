#include "protocols/download/range_decision.h"

#include <fmt/format.h>

#include "protocols/download/content_range.h"
#include "protocols/http/retry_after.h"

namespace xfer::protocols {
namespace {

// RFC 9110 §8.8.2.2: Last-Modified is a strong validator for the client only when it is at
// least 60 seconds older than the Date of the response that carried it.
constexpr std::int64_t kStrongLastModifiedMargin = 60;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// nullopt for identity; otherwise the coding list lower-cased without spaces.
std::optional<std::string> normalize_encoding(const std::optional<std::string>& value) {
  if (!value) return std::nullopt;
  std::string out;
  for (const char c : *value) {
    if (c == ' ' || c == '\t') continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (out.empty() || out == "identity") return std::nullopt;
  return out;
}

bool same_date(const std::string& a, const std::string& b) {
  const auto da = parse_http_date(a);
  const auto db = parse_http_date(b);
  if (da && db) return *da == *db;
  return trim(a) == trim(b);
}

RangeDecision fail(RangeReason reason, std::string detail) {
  RangeDecision d;
  d.outcome = RangeOutcome::ProtocolError;
  d.reason = reason;
  d.detail = std::move(detail);
  return d;
}

RangeDecision restart(RangeReason reason, std::string detail, bool full_body) {
  RangeDecision d;
  d.outcome = RangeOutcome::Restart;
  d.reason = reason;
  d.detail = std::move(detail);
  d.body_is_full_representation = full_body;
  return d;
}

bool accepts_ranges(const RangeResponse& response) {
  return !(response.accept_ranges && iequals_prefix(trim(*response.accept_ranges), "none"));
}

// A description of how held validators differ from the response's, or nullopt when they are
// consistent. Only strong comparisons count: a held weak ETag is never proof of identity.
std::optional<std::string> validator_change(const Validators& held, const Validators& got) {
  if (held.etag && got.etag) {
    const auto h = parse_entity_tag(*held.etag);
    const auto g = parse_entity_tag(*got.etag);
    if (!h || !g || h->opaque != g->opaque || h->weak != g->weak) {
      return fmt::format("ETag changed from {} to {}", *held.etag, *got.etag);
    }
  } else if (held.etag && !got.etag && got.last_modified && held.last_modified &&
             !same_date(*held.last_modified, *got.last_modified)) {
    return fmt::format("Last-Modified changed from {} to {}", *held.last_modified,
                       *got.last_modified);
  } else if (!held.etag && held.last_modified && got.last_modified &&
             !same_date(*held.last_modified, *got.last_modified)) {
    return fmt::format("Last-Modified changed from {} to {}", *held.last_modified,
                       *got.last_modified);
  }
  if (normalize_encoding(held.content_encoding) != normalize_encoding(got.content_encoding)) {
    return fmt::format("Content-Encoding changed from {} to {}",
                       held.content_encoding.value_or("identity"),
                       got.content_encoding.value_or("identity"));
  }
  return std::nullopt;
}

}  // namespace

std::optional<EntityTag> parse_entity_tag(std::string_view value) {
  value = trim(value);
  EntityTag tag;
  if (value.starts_with("W/")) {
    tag.weak = true;
    value.remove_prefix(2);
  }
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return std::nullopt;
  value = value.substr(1, value.size() - 2);
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    // etagc = %x21 / %x23-7E / obs-text
    if (!(c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80)) return std::nullopt;
  }
  tag.opaque = std::string(value);
  return tag;
}

std::optional<std::string> choose_if_range(const Validators& held) {
  if (held.etag) {
    // RFC 9110 §13.1.5: never a weak ETag, and never a date when an ETag is held at all.
    const auto tag = parse_entity_tag(*held.etag);
    if (!tag || tag->weak) return std::nullopt;
    return std::string(trim(*held.etag));
  }
  if (!held.last_modified || !held.date) return std::nullopt;
  const auto modified = parse_http_date(*held.last_modified);
  const auto date = parse_http_date(*held.date);
  if (!modified || !date || *modified > *date - kStrongLastModifiedMargin) return std::nullopt;
  return std::string(trim(*held.last_modified));
}

RangeRequestHeaders build_range_request(const RangeAsk& ask) {
  RangeRequestHeaders out;
  if (!ask.sent_range()) return out;
  out.range = format_range(ask.offset, ask.last);
  out.if_range = choose_if_range(ask.held);
  out.validated = out.if_range.has_value();
  return out;
}

RangeResponse range_response_from(const ResponseHeaders& head) {
  RangeResponse r;
  r.status = head.status;
  const auto get = [&](std::string_view name) -> std::optional<std::string> {
    // Repeated fields are joined as a list so that conflicting duplicates (two different
    // Content-Length values) are seen, not silently resolved to the first.
    std::optional<std::string> joined;
    for (const auto& [field, value] : head.fields) {
      if (field != name) continue;
      if (joined) {
        *joined += ", ";
        *joined += value;
      } else {
        joined = value;
      }
    }
    return joined;
  };
  r.content_range = get("content-range");
  r.content_length = get("content-length");
  r.content_type = get("content-type");
  r.content_encoding = get("content-encoding");
  r.etag = get("etag");
  r.last_modified = get("last-modified");
  r.date = get("date");
  r.accept_ranges = get("accept-ranges");
  return r;
}

std::string_view to_string(RangeOutcome outcome) {
  switch (outcome) {
    case RangeOutcome::Continue: return "continue";
    case RangeOutcome::Restart: return "restart";
    case RangeOutcome::AlreadyComplete: return "already-complete";
    case RangeOutcome::ProtocolError: return "protocol-error";
  }
  return "unknown";
}

std::string_view to_string(RangeReason reason) {
  switch (reason) {
    case RangeReason::None: return "none";
    case RangeReason::RangesIgnored: return "ranges-ignored";
    case RangeReason::ValidatorChanged: return "validator-changed";
    case RangeReason::LengthChanged: return "length-changed";
    case RangeReason::Unvalidated: return "unvalidated";
    case RangeReason::BadStatus: return "bad-status";
    case RangeReason::UnrequestedPartial: return "unrequested-partial";
    case RangeReason::Multipart: return "multipart";
    case RangeReason::BadContentRange: return "bad-content-range";
    case RangeReason::BadContentLength: return "bad-content-length";
    case RangeReason::WeakValidator: return "weak-validator";
  }
  return "unknown";
}

RangeDecision judge_range_response(const RangeAsk& ask, const RangeResponse& response) {
  const Validators got{response.etag, response.last_modified, response.date,
                       response.content_encoding};
  std::optional<std::uint64_t> content_length;
  if (response.content_length) {
    content_length = parse_content_length(*response.content_length);
    if (!content_length) {
      return fail(RangeReason::BadContentLength,
                  fmt::format("malformed Content-Length '{}'", response.content_length->substr(0, 100)));
    }
  }
  if (got.etag && !parse_entity_tag(*got.etag)) {
    return fail(RangeReason::WeakValidator, fmt::format("malformed ETag '{}'", got.etag->substr(0, 100)));
  }

  const auto finish = [&](RangeDecision d) {
    d.resumable = choose_if_range(d.validators).has_value() && accepts_ranges(response);
    return d;
  };

  switch (response.status) {
    case 200: {
      RangeDecision d;
      d.write_offset = 0;
      d.body_length = content_length;
      d.total_length = content_length;
      d.validators = got;
      if (!ask.sent_range()) {
        d.outcome = RangeOutcome::Continue;
        return finish(std::move(d));
      }
      const auto change = validator_change(ask.held, got);
      RangeDecision r = change ? restart(RangeReason::ValidatorChanged,
                                         fmt::format("200 instead of 206: {}", *change), true)
                               : restart(RangeReason::RangesIgnored,
                                         fmt::format("200 to Range from byte {}: the server sent the "
                                                     "whole representation",
                                                     ask.offset),
                                         true);
      r.write_offset = 0;
      r.body_length = content_length;
      r.total_length = content_length;
      r.validators = got;
      return finish(std::move(r));
    }
    case 206: {
      if (!ask.sent_range()) {
        return fail(RangeReason::UnrequestedPartial, "206 to a request without Range");
      }
      if (response.content_type && iequals_prefix(trim(*response.content_type), "multipart/byteranges")) {
        return fail(RangeReason::Multipart, "multipart/byteranges response to a single-range request");
      }
      if (!response.content_range) return fail(RangeReason::BadContentRange, "206 without Content-Range");
      const auto range = parse_content_range(*response.content_range);
      if (!range || range->unsatisfied) {
        return fail(RangeReason::BadContentRange,
                    fmt::format("malformed Content-Range '{}'", response.content_range->substr(0, 100)));
      }
      if (range->first != ask.offset || (ask.last && range->last > *ask.last)) {
        return fail(RangeReason::BadContentRange,
                    fmt::format("206 for bytes {}-{} but we asked for {}-{}", range->first, range->last,
                                ask.offset, ask.last ? fmt::format("{}", *ask.last) : std::string()));
      }
      if (range->complete_length && ask.known_length && *range->complete_length != *ask.known_length) {
        return fail(RangeReason::LengthChanged,
                    fmt::format("Content-Range length {} but the representation had {} bytes",
                                *range->complete_length, *ask.known_length));
      }
      // "bytes a-b/*" leaves the length open, but not past what we knew: bytes beyond it mean
      // another representation (or a server that contradicts itself).
      if (!range->complete_length && ask.known_length && range->last >= *ask.known_length) {
        return fail(RangeReason::LengthChanged,
                    fmt::format("206 for bytes {}-{} of a representation of {} bytes", range->first,
                                range->last, *ask.known_length));
      }
      if (content_length && *content_length != range->length()) {
        return fail(RangeReason::BadContentLength,
                    fmt::format("Content-Length {} contradicts Content-Range {}-{} ({} bytes)",
                                *content_length, range->first, range->last, range->length()));
      }
      if (got.etag && parse_entity_tag(*got.etag)->weak) {
        return fail(RangeReason::WeakValidator,
                    fmt::format("206 with weak ETag {}: cannot prove the same representation", *got.etag));
      }
      if (!choose_if_range(ask.held)) {
        return restart(RangeReason::Unvalidated,
                       "no strong validator held, a partial response cannot be trusted", false);
      }
      if (const auto change = validator_change(ask.held, got)) {
        return restart(RangeReason::ValidatorChanged, *change, false);
      }
      RangeDecision d;
      d.outcome = RangeOutcome::Continue;
      d.write_offset = range->first;
      d.body_length = range->length();
      d.total_length = range->complete_length ? range->complete_length : ask.known_length;
      d.validators = (got.etag || got.last_modified) ? got : ask.held;
      return finish(std::move(d));
    }
    case 416: {
      if (!ask.sent_range()) return fail(RangeReason::BadStatus, "416 to a request without Range");
      const auto range = response.content_range ? parse_content_range(*response.content_range)
                                                : std::nullopt;
      if (!range || !range->unsatisfied) {
        return restart(RangeReason::Unvalidated, "416 without a usable 'bytes */length'", false);
      }
      const std::uint64_t length = *range->complete_length;
      if (const auto change = validator_change(ask.held, got); change && (got.etag || got.last_modified)) {
        return restart(RangeReason::ValidatorChanged, *change, false);
      }
      if (ask.known_length && length != *ask.known_length) {
        return restart(RangeReason::LengthChanged,
                       fmt::format("416: representation now has {} bytes, had {}", length,
                                   *ask.known_length),
                       false);
      }
      if (ask.last) {
        return fail(RangeReason::BadContentRange,
                    fmt::format("416 for segment {}-{} of a {}-byte representation", ask.offset,
                                *ask.last, length));
      }
      if (length == ask.offset) {
        RangeDecision d;
        d.outcome = RangeOutcome::AlreadyComplete;
        d.write_offset = ask.offset;
        d.body_length = 0;
        d.total_length = length;
        d.validators = ask.held;
        d.detail = fmt::format("all {} bytes already held", length);
        return finish(std::move(d));
      }
      if (length < ask.offset) {
        return restart(RangeReason::LengthChanged,
                       fmt::format("416: representation has {} bytes, fewer than the {} we hold", length,
                                   ask.offset),
                       false);
      }
      return fail(RangeReason::BadContentRange,
                  fmt::format("416 for byte {} of a {}-byte representation", ask.offset, length));
    }
    default:
      return fail(RangeReason::BadStatus,
                  fmt::format("status {} is not a range outcome (classify it first)", response.status));
  }
}

}  // namespace xfer::protocols
