#include "testserver/net/request_target.h"

namespace xts::net {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

SplitTarget split_request_target(std::string_view target) {
  SplitTarget split;
  // Absolute-form ("http://host/path?query") is legal on HTTP/1.1; keep what follows the
  // authority, which ends at the first '/' or '?'. Its path may be empty ("http://host?q"):
  // that is "/" (RFC 9110 §4.2.3), and a '/' inside the query is not the path.
  bool absolute_form = false;
  if (const auto scheme = target.find("://"); scheme != std::string_view::npos && target.front() != '/') {
    const auto end = target.find_first_of("/?", scheme + 3);
    target = end == std::string_view::npos ? std::string_view() : target.substr(end);
    absolute_form = true;
  }
  const auto q = target.find('?');
  split.path = percent_decode(target.substr(0, q));
  if (absolute_form && split.path.empty()) split.path.push_back('/');
  if (q != std::string_view::npos) split.query = std::string(target.substr(q + 1));
  return split;
}

}  // namespace xts::net
