// Fuzz target: range-resume decisions (protocols/download/range_decision): what a response to a
// (possibly ranged) GET means for the bytes already held. Input, one item per line:
//   <status> <offset> <last|-> <known-length|->      what we asked for / knew
//   held-etag: ... / held-last-modified: ... / held-date: ... / held-content-encoding: ...
//   <field>: <value>                                  response fields (names lower-cased, as
//                                                     transports deliver them; repeats allowed)
// Checks design.md invariants 1-3 on every decision: a body is appended only at exactly our
// offset, inside the segment we asked for, and only when we held a strong validator that the
// response does not contradict; a full-representation restart only comes from a 200; an
// "already complete" only from a 416 naming exactly our length.
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocols/download/content_range.h"
#include "protocols/download/range_decision.h"
#include "tests/fuzz/fuzz_support.h"

using namespace xfer::protocols;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;
  const auto lines = xfer_fuzz::lines(xfer_fuzz::as_text(data, size));
  const auto control = xfer_fuzz::words(lines[0]);
  const auto word = [&](std::size_t i) {
    return i < control.size() ? xfer_fuzz::number(control[i]) : std::nullopt;
  };

  ResponseHeaders head;
  head.status = static_cast<int>(word(0).value_or(200) % 1000);
  RangeAsk ask;
  ask.offset = word(1).value_or(0);
  ask.last = word(2);
  ask.known_length = word(3);
  if (ask.last && *ask.last < ask.offset) std::swap(*ask.last, ask.offset);  // format_range's precondition
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto f = xfer_fuzz::field(lines[i]);
    if (!f) continue;
    const std::string name = lower(f->name);
    const std::string value(f->value);
    if (name == "held-etag") ask.held.etag = value;
    else if (name == "held-last-modified") ask.held.last_modified = value;
    else if (name == "held-date") ask.held.date = value;
    else if (name == "held-content-encoding") ask.held.content_encoding = value;
    else head.fields.emplace_back(name, value);
  }

  // The request side.
  const RangeRequestHeaders request = build_range_request(ask);
  if (!ask.sent_range()) {
    FUZZ_CHECK(!request.range && !request.if_range && request.validated);
  } else {
    FUZZ_CHECK(request.range == format_range(ask.offset, ask.last));
    FUZZ_CHECK(request.validated == request.if_range.has_value());
    if (request.if_range && ask.held.etag) {
      const auto tag = parse_entity_tag(*request.if_range);
      FUZZ_CHECK(tag.has_value() && !tag->weak);  // never a weak ETag in If-Range
    }
  }

  // The response side.
  const RangeResponse response = range_response_from(head);
  FUZZ_CHECK(response.status == head.status);
  const RangeDecision d = judge_range_response(ask, response);
  const bool strong_held = choose_if_range(ask.held).has_value();
  if (response.content_length && !parse_content_length(*response.content_length)) {
    FUZZ_CHECK(d.outcome == RangeOutcome::ProtocolError);
  }
  if (d.resumable) FUZZ_CHECK(choose_if_range(d.validators).has_value());

  switch (d.outcome) {
    case RangeOutcome::Continue:
      if (response.status == 200) {
        FUZZ_CHECK(!ask.sent_range());
        FUZZ_CHECK(d.write_offset == 0);
      } else {
        FUZZ_CHECK(response.status == 206);
        FUZZ_CHECK(ask.sent_range());
        FUZZ_CHECK(strong_held);
        FUZZ_CHECK(d.write_offset == ask.offset);  // never splice at another offset
        FUZZ_CHECK(d.body_length.has_value() && *d.body_length >= 1);
        const std::uint64_t last = d.write_offset + *d.body_length - 1;
        FUZZ_CHECK(last >= d.write_offset);  // no wrap
        if (ask.last) FUZZ_CHECK(last <= *ask.last);
        if (d.total_length) FUZZ_CHECK(last < *d.total_length);
        if (ask.known_length && d.total_length) FUZZ_CHECK(*ask.known_length == *d.total_length);
        if (response.etag) {
          const auto got = parse_entity_tag(*response.etag);
          FUZZ_CHECK(got.has_value() && !got->weak);
          if (ask.held.etag) {  // the representation we hold is the one we continue
            const auto held = parse_entity_tag(*ask.held.etag);
            FUZZ_CHECK(held.has_value() && !held->weak && held->opaque == got->opaque);
          }
        }
        const auto cr = parse_content_range(*response.content_range);
        FUZZ_CHECK(cr.has_value() && !cr->unsatisfied && cr->first == ask.offset);
        if (response.content_length) FUZZ_CHECK(parse_content_length(*response.content_length) == d.body_length);
      }
      break;
    case RangeOutcome::Restart:
      FUZZ_CHECK(response.status == 200 || response.status == 206 || response.status == 416);
      FUZZ_CHECK(ask.sent_range());
      if (d.body_is_full_representation) {
        FUZZ_CHECK(response.status == 200);
        FUZZ_CHECK(d.write_offset == 0);
      }
      break;
    case RangeOutcome::AlreadyComplete:
      FUZZ_CHECK(response.status == 416);
      FUZZ_CHECK(!ask.last.has_value());
      FUZZ_CHECK(d.total_length == ask.offset);
      FUZZ_CHECK(d.body_length == 0u);
      if (ask.known_length) FUZZ_CHECK(*ask.known_length == ask.offset);
      break;
    case RangeOutcome::ProtocolError:
      break;
  }
  (void)to_string(d.outcome);
  (void)to_string(d.reason);
  return 0;
}
