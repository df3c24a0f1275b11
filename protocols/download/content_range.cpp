#include "protocols/download/content_range.h"

#include <limits>

#include <fmt/format.h>

namespace xfer::protocols {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 1*DIGIT that fits in uint64 (at most 19 digits keeps the arithmetic obviously safe).
std::optional<std::uint64_t> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : s) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

}  // namespace

std::string format_range(std::uint64_t first, std::optional<std::uint64_t> last) {
  if (last) return fmt::format("bytes={}-{}", first, *last);
  return fmt::format("bytes={}-", first);
}

std::optional<ContentRange> parse_content_range(std::string_view value) {
  value = trim(value);
  // The range unit is case-insensitive (RFC 9110 §14.1).
  if (value.size() < 6) return std::nullopt;
  for (std::size_t i = 0; i < 5; ++i) {
    const char c = static_cast<char>(value[i] | 0x20);
    if (c != "bytes"[i]) return std::nullopt;
  }
  if (value[5] != ' ') return std::nullopt;
  value.remove_prefix(6);
  const auto slash = value.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view range = value.substr(0, slash);
  const std::string_view complete = value.substr(slash + 1);

  ContentRange out;
  if (complete != "*") {
    out.complete_length = parse_number(complete);
    if (!out.complete_length) return std::nullopt;
  }
  if (range == "*") {
    if (!out.complete_length) return std::nullopt;  // "bytes */*" says nothing
    out.unsatisfied = true;
    return out;
  }
  const auto dash = range.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto first = parse_number(range.substr(0, dash));
  const auto last = parse_number(range.substr(dash + 1));
  if (!first || !last || *first > *last) return std::nullopt;
  if (out.complete_length && *last >= *out.complete_length) return std::nullopt;
  out.first = *first;
  out.last = *last;
  return out;
}

std::optional<std::uint64_t> parse_content_length(std::string_view value) {
  std::optional<std::uint64_t> result;
  while (true) {
    const auto comma = value.find(',');
    const auto number = parse_number(trim(value.substr(0, comma)));
    if (!number || (result && *result != *number)) return std::nullopt;
    result = number;
    if (comma == std::string_view::npos) return result;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace xfer::protocols
