// Fuzz target: validation of 104 (Upload Resumption Supported) interim responses
// (protocols/upload/interim_response judge_interim). Input, one item per line:
//   <status> <interop-version> <last-offset|->
//   <request URL>            (a fixed https URL when this does not parse)
//   <known upload URL|->
//   <field>: <value>         the interim's fields (names lower-cased)
// Checks the draft's rules on every verdict: an accepted Location is an absolute http(s) URL,
// https when the request was, stable under re-parsing and equal to a URL already known; Upload-Offset never goes backwards; only a 104 echoing our interop version is
// believed; Upload-Limit is only taken in dialects that have it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocols/upload/interim_response.h"
#include "protocols/upload/upload_dialect.h"
#include "protocols/upload/upload_fields.h"
#include "tests/fuzz/fuzz_support.h"

using namespace xfer;
using namespace xfer::protocols;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 8192) return 0;
  const auto lines = xfer_fuzz::lines(xfer_fuzz::as_text(data, size));
  const auto control = xfer_fuzz::words(lines[0]);
  const auto word = [&](std::size_t i) {
    return i < control.size() ? xfer_fuzz::number(control[i]) : std::nullopt;
  };
  ResponseHeaders interim;
  interim.status = static_cast<int>(word(0).value_or(104) % 1000);
  const int version = static_cast<int>(word(1).value_or(kMaxInteropVersion) % 16);
  const auto dialect = dialect_for(version).value_or(*dialect_for(kMaxInteropVersion));
  const auto last_offset = word(2);

  static const Url kDefaultRequest = *Url::parse_http("https://up.example/uploads/new?x=1");
  const auto parsed_request = lines.size() > 1 ? Url::parse_http(lines[1]) : Result<Url>(kDefaultRequest);
  const Url request = parsed_request.value_or(kDefaultRequest);
  std::optional<std::string> known;
  if (lines.size() > 2 && lines[2] != "-") known = std::string(lines[2]);
  for (std::size_t i = 3; i < lines.size(); ++i) {
    if (const auto f = xfer_fuzz::field(lines[i])) interim.fields.emplace_back(lower(f->name), std::string(f->value));
  }

  const InterimDecision d = judge_interim(interim, dialect, request, known, last_offset);
  switch (d.verdict) {
    case InterimVerdict::Ignore: {
      FUZZ_CHECK(!d.upload_url && !d.offset && !d.limits);
      // Only a 104 that does not echo our version is ignored.
      const auto* v = interim.find("upload-draft-interop-version");
      std::string_view echoed = v ? std::string_view(*v) : std::string_view();
      while (!echoed.empty() && (echoed.front() == ' ' || echoed.front() == '\t')) echoed.remove_prefix(1);
      while (!echoed.empty() && (echoed.back() == ' ' || echoed.back() == '\t')) echoed.remove_suffix(1);
      FUZZ_CHECK(interim.status != 104 || v == nullptr || echoed != std::to_string(dialect.interop_version));
      break;
    }
    case InterimVerdict::Violation:
      FUZZ_CHECK(!d.upload_url && !d.offset && !d.limits);
      FUZZ_CHECK(!d.reason.empty());
      break;
    case InterimVerdict::Accept: {
      FUZZ_CHECK(interim.status == 104);
      FUZZ_CHECK(interim.find("upload-draft-interop-version") != nullptr);
      FUZZ_CHECK(d.upload_url.has_value() == (interim.find("location") != nullptr));
      if (d.upload_url) {
        const auto url = Url::parse_http(*d.upload_url);
        FUZZ_CHECK(url.has_value());
        // Another origin is allowed (the request builder withholds credentials there, design.md
        // invariant 7); leaving https never is.
        FUZZ_CHECK(url->is_http());
        if (request.scheme == "https") FUZZ_CHECK(url->scheme == "https");
        FUZZ_CHECK(!url->userinfo && !url->fragment);
        FUZZ_CHECK(url->to_string() == *d.upload_url);
        FUZZ_CHECK(!url->path.empty() && url->path.front() == '/');
        if (known) {
          const auto k = Url::parse_http(*known);
          FUZZ_CHECK(k.has_value() && k->origin() == url->origin() && k->path == url->path &&
                     k->query == url->query);
        }
      }
      FUZZ_CHECK(d.offset.has_value() == (interim.find("upload-offset") != nullptr));
      if (d.offset) {
        FUZZ_CHECK(d.offset == parse_upload_offset(*interim.find("upload-offset")));
        if (last_offset) FUZZ_CHECK(*d.offset >= *last_offset);
      }
      if (d.limits) {
        FUZZ_CHECK(dialect.has_upload_limit);
        const auto* text = interim.find("upload-limit");
        FUZZ_CHECK(text != nullptr);
        const auto again = parse_upload_limit(*text, dialect);
        FUZZ_CHECK(again.has_value() && *again == *d.limits);
      }
      break;
    }
  }
  return 0;
}
