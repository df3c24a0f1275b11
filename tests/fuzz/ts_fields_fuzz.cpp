// Fuzz target (test server; links only xts_server): the test server's own header parsers —
// its structured-field subset for the upload fields and the Upload-Limit dictionaries of
// uploads and /_control/limits (testserver/app/structured_fields), the interop-version and
// completion fields (testserver/app/upload_dialect), integers of Content-Length and fault specs
// (parse_u64, net::parse_uint64) and If-Range / If-Modified-Since dates (parse_http_date).
// Input: one header value. The parsers are lenient about parameters by design; the checks are
// that they never misread a value:
//  - a plain sf-integer ("-"? 1*15DIGIT) parses to its value; anything accepted is in the
//    sf-integer range and survives its canonical form (with or without parameters);
//  - an accepted int dictionary has only valid keys, and its canonical form, and the server's own
//    Upload-Limit announcement of it (UploadDialect::limit_value), parse back to the same numbers;
//  - parse_u64 / parse_uint64 accept exactly the decimal numbers that fit, with their value;
//  - a parsed date formats (http_date) to one that parses back to the same instant;
//  - UploadDialect::of rejects exactly the interop versions outside 3..9.
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>

#include "testserver/app/http_util.h"
#include "testserver/app/structured_fields.h"
#include "testserver/app/upload_dialect.h"
#include "testserver/net/response_headers.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "-"? 1*15DIGIT → its value.
std::optional<std::int64_t> plain_integer(std::string_view s) {
  const bool negative = s.starts_with('-');
  if (negative) s.remove_prefix(1);
  if (s.empty() || s.size() > 15) return std::nullopt;
  std::int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return negative ? -v : v;
}

bool valid_key(std::string_view k) {
  if (k.empty()) return false;
  for (const char c : k) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '*'))
      return false;
  }
  return true;
}

void check_integer(std::string_view value) {
  const auto n = xts::parse_sf_integer(value);
  if (const auto plain = plain_integer(trim(value))) FUZZ_CHECK(n == plain);
  if (!n) return;
  FUZZ_CHECK(*n >= -999'999'999'999'999 && *n <= 999'999'999'999'999);
  FUZZ_CHECK(xts::parse_sf_integer(std::to_string(*n)) == n);
  FUZZ_CHECK(xts::parse_sf_integer(std::to_string(*n) + ";p=1;q") == n);
}

void check_dictionary(std::string_view value) {
  const auto dict = xts::parse_sf_int_dictionary(value);
  if (!dict) return;
  std::string canonical;
  for (const auto& [k, v] : *dict) {
    FUZZ_CHECK(valid_key(k));
    FUZZ_CHECK(v >= -999'999'999'999'999 && v <= 999'999'999'999'999);
    if (!canonical.empty()) canonical += ", ";
    canonical += k + "=" + std::to_string(v);
  }
  const auto again = xts::parse_sf_int_dictionary(canonical);
  FUZZ_CHECK(again.has_value() && *again == *dict);

  // As /_control/limits would take it, then announced again in Upload-Limit.
  xts::UploadLimits limits;
  for (const auto& [k, v] : *dict) {
    if (v < 0) return;
    const auto u = static_cast<std::uint64_t>(v);
    if (k == "max-size") limits.max_size = u;
    else if (k == "min-size") limits.min_size = u;
    else if (k == "max-append-size") limits.max_append_size = u;
    else if (k == "min-append-size") limits.min_append_size = u;
    else if (k == "max-age" || k == "expires") limits.max_age = u;
  }
  for (const int version : {6, 9}) {
    xts::UploadDialect dialect;
    dialect.version = version;
    const std::int64_t now = 1'767'225'600;
    const auto announced = xts::parse_sf_int_dictionary(
        dialect.limit_value(limits, now + static_cast<std::int64_t>(limits.max_age), now));
    FUZZ_CHECK(announced.has_value());
    FUZZ_CHECK(announced->at("max-size") == static_cast<std::int64_t>(limits.max_size));
    FUZZ_CHECK(announced->at("min-size") == static_cast<std::int64_t>(limits.min_size));
    FUZZ_CHECK(announced->at(version <= 6 ? "expires" : "max-age") == static_cast<std::int64_t>(limits.max_age));
    if (limits.max_append_size) FUZZ_CHECK(announced->at("max-append-size") == static_cast<std::int64_t>(*limits.max_append_size));
    if (limits.min_append_size) FUZZ_CHECK(announced->at("min-append-size") == static_cast<std::int64_t>(*limits.min_append_size));
  }
}

void check_unsigned(std::string_view value) {
  // Model: 1*DIGIT whose value fits in 64 bits.
  std::optional<std::uint64_t> model;
  if (!value.empty()) {
    std::uint64_t v = 0;
    bool ok = true;
    for (const char c : value) {
      const auto d = static_cast<std::uint64_t>(c - '0');
      if (c < '0' || c > '9' || v > (UINT64_MAX - d) / 10) {
        ok = false;
        break;
      }
      v = v * 10 + d;
    }
    if (ok) model = v;
  }
  if (value.size() <= 20) FUZZ_CHECK(xts::parse_u64(value) == model);
  else FUZZ_CHECK(!xts::parse_u64(value));
  FUZZ_CHECK(xts::net::parse_uint64(value) == model);
}

void check_date(std::string_view value) {
  const auto t = xts::parse_http_date(value);
  if (!t) return;
  const std::string formatted = xts::http_date(*t);
  FUZZ_CHECK(xts::parse_http_date(formatted) == t);
}

void check_upload_fields(std::string_view value) {
  xts::Request req;
  req.headers.push_back({"upload-draft-interop-version", std::string(value)});
  req.headers.push_back({"upload-complete", std::string(value)});
  req.headers.push_back({"upload-incomplete", std::string(value)});
  const auto dialect = xts::UploadDialect::of(req, 9);
  const auto n = xts::parse_sf_integer(value);
  FUZZ_CHECK(dialect.has_value() == (n && *n >= 3 && *n <= 10));
  if (dialect) {
    FUZZ_CHECK(dialect->version == *n && dialect->announced);
  }
  const auto b = xts::parse_sf_boolean(value);
  if (b) FUZZ_CHECK(*b == (trim(value).substr(0, 2) == "?1"));
  for (int v = xts::kMinInterop; v <= xts::kLatestInterop; ++v) {
    xts::UploadDialect d;
    d.version = v;
    const auto complete = d.request_complete(req);
    FUZZ_CHECK(complete.has_value() == b.has_value());
    if (complete) FUZZ_CHECK(*complete == (v == 3 ? !*b : *b));
    const auto header = d.complete_header(true);
    FUZZ_CHECK(xts::parse_sf_boolean(header.value) == (v == 3 ? false : true));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;
  const std::string_view value = xfer_fuzz::as_text(data, size);
  check_integer(value);
  check_dictionary(value);
  check_unsigned(value);
  check_date(value);
  check_upload_fields(value);
  return 0;
}
