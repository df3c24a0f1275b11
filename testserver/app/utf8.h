// Strict UTF-8 (RFC 3629 / Unicode table 3-7): no overlong forms, no surrogates, nothing past
// U+10FFFF. Request paths must pass it before they reach a file name or a JSON record (JSON
// text is UTF-8; nlohmann throws on anything else), and log text is made to pass it.
#pragma once

#include <cstddef>
#include <string_view>

namespace xts {

// Length of the well-formed sequence starting at s[at], or 0 if it is not one.
std::size_t utf8_sequence_length(std::string_view s, std::size_t at);
bool is_valid_utf8(std::string_view s);

}  // namespace xts
