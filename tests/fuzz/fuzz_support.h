// Helpers shared by the fuzz targets (tests/fuzz/*_fuzz.cpp): a property check that aborts
// (so libFuzzer records a crash file and the replay test fails), and a line-oriented reader for
// targets whose input has several parts. Header-only, standard library only, so the same
// helpers serve the client-side targets and the test-server ones (which link no project code).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xfer_fuzz {

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits at '\n' (the '\n' is dropped; a '\r' or any other byte stays in the line).
inline std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      out.push_back(text.substr(pos));
      break;
    }
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

// A lenient decimal for the control part of a structured input ("-" or garbage → nullopt);
// saturates instead of overflowing.
inline std::optional<std::uint64_t> number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  return v;
}

// Space-separated words of one line.
inline std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < line.size()) {
    const auto sp = line.find(' ', pos);
    const auto end = sp == std::string_view::npos ? line.size() : sp;
    if (end > pos) out.push_back(line.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

// "name: value" → {name, value} (value without the leading spaces); nullopt without ':'.
struct Field {
  std::string_view name;
  std::string_view value;
};
inline std::optional<Field> field(std::string_view line) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return Field{line.substr(0, colon), value};
}

}  // namespace xfer_fuzz

// Aborts with the condition's text when a property the target checks does not hold.
#define FUZZ_CHECK(cond)                                         \
  do {                                                           \
    if (!(cond)) ::xfer_fuzz::fail(#cond, __FILE__, __LINE__);   \
  } while (0)
