// Splits an HTTP request-target into the percent-decoded path and the raw query, as
// Request::path and Request::query promise. Decoding is byte-exact: "%00" becomes a NUL the
// handlers reject, a malformed escape is kept literally, so nothing is silently dropped.
#pragma once

#include <string>
#include <string_view>

namespace xts::net {

struct SplitTarget {
  std::string path;
  std::string query;
};

SplitTarget split_request_target(std::string_view target);
std::string percent_decode(std::string_view text);

}  // namespace xts::net
