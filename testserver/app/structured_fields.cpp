#include "testserver/app/structured_fields.h"

#include <cctype>

#include "testserver/app/http_util.h"

namespace xts {

namespace {

// Drops ";param..." after a bare item.
std::string_view strip_params(std::string_view v) {
  const auto semi = v.find(';');
  return trim(semi == std::string_view::npos ? v : v.substr(0, semi));
}

}  // namespace

std::optional<std::int64_t> parse_sf_integer(std::string_view value) {
  auto v = strip_params(trim(value));
  bool negative = false;
  if (!v.empty() && v.front() == '-') {
    negative = true;
    v.remove_prefix(1);
  }
  if (v.empty() || v.size() > 15) return std::nullopt;  // sf-integer: at most 15 digits
  std::int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return negative ? -n : n;
}

std::optional<bool> parse_sf_boolean(std::string_view value) {
  const auto v = strip_params(trim(value));
  if (v == "?1") return true;
  if (v == "?0") return false;
  return std::nullopt;
}

namespace {
// Splits "key=value, key=value" into checked keys and raw values; nullopt when malformed.
template <typename Value, typename Parse>
std::optional<std::map<std::string, Value>> parse_dictionary(std::string_view value, Parse parse) {
  std::map<std::string, Value> out;
  std::size_t pos = 0;
  const auto s = trim(value);
  if (s.empty()) return out;
  while (pos <= s.size()) {
    auto comma = s.find(',', pos);
    if (comma == std::string_view::npos) comma = s.size();
    const auto member = trim(s.substr(pos, comma - pos));
    pos = comma + 1;
    const auto eq = member.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    const auto key = member.substr(0, eq);
    for (char c : key) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '*'))
        return std::nullopt;
    }
    auto v = parse(member.substr(eq + 1));
    if (!v) return std::nullopt;
    out[std::string(key)] = std::move(*v);
  }
  return out;
}

std::optional<std::string> parse_byte_sequence(std::string_view v) {
  const auto semi = v.find(';');  // parameters are skipped
  v = trim(v.substr(0, semi));
  if (v.size() < 2 || v.front() != ':' || v.back() != ':') return std::nullopt;
  v = v.substr(1, v.size() - 2);
  for (char c : v)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=')
      return std::nullopt;
  return std::string(v);
}
}  // namespace

std::optional<std::map<std::string, std::int64_t>> parse_sf_int_dictionary(std::string_view value) {
  return parse_dictionary<std::int64_t>(value, [](std::string_view v) { return parse_sf_integer(v); });
}

std::optional<std::map<std::string, std::string>> parse_sf_bytes_dictionary(std::string_view value) {
  return parse_dictionary<std::string>(value, parse_byte_sequence);
}

}  // namespace xts
