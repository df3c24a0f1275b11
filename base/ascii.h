// ASCII case folding for protocol tokens (field names, algorithm names, schemes). Deliberately
// not locale-aware: HTTP's case-insensitivity is ASCII-only (RFC 9110 §5.1), and std::tolower
// on a signed char is undefined for bytes above 0x7f.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace xfer {

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

inline bool ascii_iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

}  // namespace xfer
