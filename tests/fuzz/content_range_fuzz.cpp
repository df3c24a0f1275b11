// Fuzz target: the byte-range framing fields of a download (protocols/download/content_range
// and the entity-tag parser of range_decision). The input is one header value, read as
// Content-Range, Content-Length and ETag. Checks, on whatever is accepted:
//  - Content-Range: first <= last < complete length; "bytes */N" always carries N; the
//    canonical form parses back to the same value; length() does not wrap;
//  - Content-Length: the decimal form parses back to the same number;
//  - ETag: no '"' inside the opaque part, and the canonical form parses back.
#include <cstddef>
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "protocols/download/content_range.h"
#include "protocols/download/range_decision.h"
#include "tests/fuzz/fuzz_support.h"

using namespace xfer::protocols;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = xfer_fuzz::as_text(data, size);

  if (const auto cr = parse_content_range(input)) {
    std::string canonical;
    if (cr->unsatisfied) {
      FUZZ_CHECK(cr->complete_length.has_value());
      FUZZ_CHECK(cr->length() == 0);
      canonical = fmt::format("bytes */{}", *cr->complete_length);
    } else {
      FUZZ_CHECK(cr->first <= cr->last);
      if (cr->complete_length) FUZZ_CHECK(cr->last < *cr->complete_length);
      FUZZ_CHECK(cr->length() >= 1);
      FUZZ_CHECK(cr->length() - 1 == cr->last - cr->first);
      canonical = cr->complete_length
                      ? fmt::format("bytes {}-{}/{}", cr->first, cr->last, *cr->complete_length)
                      : fmt::format("bytes {}-{}/*", cr->first, cr->last);
    }
    const auto again = parse_content_range(canonical);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(*again == *cr);
    // The Range that asks for exactly these bytes.
    if (!cr->unsatisfied) {
      FUZZ_CHECK(format_range(cr->first, cr->last) == fmt::format("bytes={}-{}", cr->first, cr->last));
    }
  }

  if (const auto length = parse_content_length(input)) {
    FUZZ_CHECK(parse_content_length(fmt::format("{}", *length)) == length);
    FUZZ_CHECK(parse_content_length(fmt::format("{}, {}", *length, *length)) == length);
  }

  if (const auto tag = parse_entity_tag(input)) {
    FUZZ_CHECK(tag->opaque.find('"') == std::string::npos);
    const std::string canonical = (tag->weak ? "W/\"" : "\"") + tag->opaque + "\"";
    const auto again = parse_entity_tag(canonical);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(*again == *tag);
  }
  return 0;
}
