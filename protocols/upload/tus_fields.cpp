#include "protocols/upload/tus_fields.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "base/ascii.h"
#include "protocols/http/base64.h"

namespace xfer::protocols {
namespace {

bool valid_metadata_key(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return c > 0x20 && c < 0x7f && c != ',';
  });
}

}  // namespace

bool TusCapabilities::speaks_1_0() const {
  return std::find(versions.begin(), versions.end(), kTusVersion) != versions.end();
}

bool TusCapabilities::has(std::string_view extension) const {
  return std::find(extensions.begin(), extensions.end(), extension) != extensions.end();
}

std::vector<std::string> split_tus_list(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string_view member = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    while (!member.empty() && (member.front() == ' ' || member.front() == '\t')) member.remove_prefix(1);
    while (!member.empty() && (member.back() == ' ' || member.back() == '\t')) member.remove_suffix(1);
    if (!member.empty()) out.emplace_back(member);
  }
  return out;
}

std::optional<std::uint64_t> parse_tus_integer(std::string_view value) {
  if (value.empty() || value.size() > 18) return std::nullopt;
  std::uint64_t n = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

Result<TusCapabilities> parse_tus_capabilities(const ResponseHeaders& head) {
  const auto* versions = head.find("tus-version");
  if (versions == nullptr)
    return fail(ErrorCategory::Protocol,
                fmt::format("the OPTIONS response ({}) has no Tus-Version: not a tus server",
                            head.status));
  TusCapabilities caps;
  caps.versions = split_tus_list(*versions);
  if (const auto* extensions = head.find("tus-extension")) caps.extensions = split_tus_list(*extensions);
  if (const auto* max = head.find("tus-max-size")) {
    const auto n = parse_tus_integer(*max);
    if (!n) return fail(ErrorCategory::Protocol, fmt::format("Tus-Max-Size '{}' is not a size", *max));
    // Zero is what some servers send for "no limit".
    if (*n > 0) caps.max_size = *n;
  }
  if (const auto* algorithms = head.find("tus-checksum-algorithm")) {
    for (const auto& a : split_tus_list(*algorithms)) caps.checksum_algorithms.push_back(ascii_lower(a));
  }
  return caps;
}

std::string format_tus_metadata(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  std::vector<std::string_view> seen;
  for (const auto& [key, value] : pairs) {
    if (!valid_metadata_key(key) || std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(key);
    if (!out.empty()) out += ',';
    out += key;
    if (!value.empty()) {
      out += ' ';
      out += base64_encode(value);
    }
  }
  return out;
}

}  // namespace xfer::protocols
