// Fuzz target (test server; links only xts_server): splitting the HTTP request-target into
// the percent-decoded path and the raw query (testserver/net/request_target), which every
// request of both transports goes through before routing. Input: a request-target. Checks the
// split against an independent model of RFC 9112 §3.2 (origin-form, and absolute-form whose
// path may be empty: "http://h?q" is path "/" with query "q"), and percent_decode: it never
// grows its input, leaves text without '%' alone, and inverts a full percent-encoding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "testserver/net/request_target.h"
#include "tests/fuzz/fuzz_support.h"

using xts::net::percent_decode;
using xts::net::split_request_target;

namespace {

std::string encode_all(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : bytes) {
    out += '%';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// The model: {path before decoding, query}.
std::pair<std::string, std::string> model_split(std::string_view target) {
  if (const auto scheme = target.find("://"); scheme != std::string_view::npos && !target.empty() &&
                                               target.front() != '/') {
    std::string_view rest = target.substr(scheme + 3);
    const auto end = rest.find_first_of("/?");
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    std::string origin_form = (rest.empty() || rest.front() == '?') ? "/" + std::string(rest) : std::string(rest);
    const auto q = origin_form.find('?');
    if (q == std::string::npos) return {origin_form, ""};
    return {origin_form.substr(0, q), origin_form.substr(q + 1)};
  }
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {std::string(target), ""};
  return {std::string(target.substr(0, q)), std::string(target.substr(q + 1))};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view target = xfer_fuzz::as_text(data, size);

  const auto split = split_request_target(target);
  const auto [raw_path, query] = model_split(target);
  FUZZ_CHECK(split.query == query);
  FUZZ_CHECK(split.path == percent_decode(raw_path));
  if (!target.empty() && target.front() == '/') FUZZ_CHECK(!split.path.empty() && split.path.front() == '/');

  const std::string decoded = percent_decode(target);
  FUZZ_CHECK(decoded.size() <= target.size());
  if (target.find('%') == std::string_view::npos) FUZZ_CHECK(decoded == target);
  FUZZ_CHECK(percent_decode(encode_all(target)) == target);
  return 0;
}
