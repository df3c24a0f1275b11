// Fuzz target: the resumable-upload fields and dialects (protocols/upload/upload_fields,
// upload_dialect). Input: a header value, optionally preceded by a control line
//   <interop-version> <remaining> <preferred> <total>
// and '\n'. The value is read as Upload-Offset / Upload-Length, Upload-Limit (in that dialect)
// and the completion field. Checks:
//  - offsets are the non-negative sf-integers, and format_upload_integer round-trips them;
//  - an accepted Upload-Limit has min-append-size <= max-append-size, takes its lifetime only
//    from the dialect's key, and check_total_size / next_append_size obey it: an append is
//    never empty, never larger than what remains or than max-append-size, never smaller than
//    min-append-size unless it is the last, and fails only when max-append-size is 0;
//  - completion fields round-trip through completion_header in every dialect;
//  - dialect_for is defined exactly for the interop versions 3..9.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocols/http/structured_fields.h"
#include "protocols/upload/upload_dialect.h"
#include "protocols/upload/upload_fields.h"
#include "tests/fuzz/fuzz_support.h"

using namespace xfer::protocols;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view value = xfer_fuzz::as_text(data, size);
  std::uint64_t version = kMaxInteropVersion;
  std::uint64_t remaining = 1'000'000;
  std::uint64_t preferred = 0;
  std::uint64_t total = 1'000'000;
  if (const auto nl = value.find('\n'); nl != std::string_view::npos) {
    const auto control = xfer_fuzz::words(value.substr(0, nl));
    value.remove_prefix(nl + 1);
    const auto word = [&](std::size_t i, std::uint64_t fallback) {
      return i < control.size() ? xfer_fuzz::number(control[i]).value_or(fallback) : fallback;
    };
    version = word(0, version);
    remaining = word(1, remaining);
    preferred = word(2, preferred);
    total = word(3, total);
  }
  const int v = static_cast<int>(std::min<std::uint64_t>(version, 1000));
  const auto maybe_dialect = dialect_for(v);
  FUZZ_CHECK(maybe_dialect.has_value() == (v >= kMinInteropVersion && v <= kMaxInteropVersion));
  const UploadDialect dialect = maybe_dialect.value_or(*dialect_for(kMaxInteropVersion));

  // Upload-Offset / Upload-Length.
  const auto offset = parse_upload_offset(value);
  FUZZ_CHECK(offset == parse_upload_length(value));
  const auto item = sf::parse_item(value);
  const auto* integer = item ? std::get_if<std::int64_t>(&item->value) : nullptr;
  FUZZ_CHECK(offset.has_value() == (integer != nullptr && *integer >= 0));
  if (offset) {
    FUZZ_CHECK(*offset == static_cast<std::uint64_t>(*integer));
    const auto text = format_upload_integer(*offset);
    FUZZ_CHECK(text.has_value() && parse_upload_offset(*text) == offset);
  }

  // Upload-Limit.
  const auto limits = parse_upload_limit(value, dialect);
  if (limits) {
    FUZZ_CHECK(sf::parse_dictionary(value).has_value());
    if (limits->min_append_size && limits->max_append_size) {
      FUZZ_CHECK(*limits->min_append_size <= *limits->max_append_size);
    }
    if (limits->max_age) {
      FUZZ_CHECK(!dialect.lifetime_limit_key.empty());
      const auto dict = sf::parse_dictionary(value);
      FUZZ_CHECK(sf::find(*dict, dialect.lifetime_limit_key) != nullptr);
      FUZZ_CHECK(limits->max_age->count() >= 0);
    }
    const auto fits = check_total_size(*limits, total);
    FUZZ_CHECK(fits.has_value() == (!limits->max_size || total <= *limits->max_size));

    const auto append = next_append_size(*limits, remaining, preferred);
    if (remaining == 0) {
      FUZZ_CHECK(append.has_value() && *append == 0);
    } else if (append) {
      const std::uint64_t n = *append;
      FUZZ_CHECK(n >= 1 && n <= remaining);
      if (limits->max_append_size) FUZZ_CHECK(n <= *limits->max_append_size);
      if (n < remaining && limits->min_append_size) FUZZ_CHECK(n >= *limits->min_append_size);
      if (preferred > 0 && n > preferred) {  // only min-append-size may raise it
        FUZZ_CHECK(limits->min_append_size && n == std::min(*limits->min_append_size, remaining));
      }
    } else {
      FUZZ_CHECK(limits->max_append_size && *limits->max_append_size == 0);
    }
  } else {
    FUZZ_CHECK(limits.error().category() == xfer::ErrorCategory::Protocol);
  }

  // Completion fields.
  const auto complete = parse_completion(dialect, value);
  const auto* flag = item ? std::get_if<bool>(&item->value) : nullptr;
  FUZZ_CHECK(complete.has_value() == (flag != nullptr));
  if (complete) FUZZ_CHECK(*complete == (dialect.completion_inverted ? !*flag : *flag));
  for (int w = kMinInteropVersion; w <= kMaxInteropVersion; ++w) {
    const auto dw = *dialect_for(w);
    FUZZ_CHECK(dw.interop_version == w);
    for (const bool c : {false, true}) {
      const auto [name, text] = completion_header(dw, c);
      FUZZ_CHECK(name == dw.completion_field);
      FUZZ_CHECK(parse_completion(dw, text) == c);
    }
    FUZZ_CHECK(interop_version_header(dw).second == std::to_string(w));
  }
  return 0;
}
