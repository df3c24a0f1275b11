#include "cli/options.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace xfer::cli {

Result<std::uint64_t> parse_rate(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (...) {
    return fail(ErrorCategory::InvalidArgument, fmt::format("bad rate '{}'", text));
  }
  double scale = 1;
  const std::string suffix = text.substr(used);
  if (suffix == "k" || suffix == "K") scale = 1024;
  else if (suffix == "m" || suffix == "M") scale = 1024.0 * 1024;
  else if (suffix == "g" || suffix == "G") scale = 1024.0 * 1024 * 1024;
  else if (!suffix.empty())
    return fail(ErrorCategory::InvalidArgument, fmt::format("bad rate suffix in '{}'", text));
  if (!(value > 0) || !std::isfinite(value))
    return fail(ErrorCategory::InvalidArgument, fmt::format("rate must be positive: '{}'", text));
  if (value * scale >= 9.0e18)
    return fail(ErrorCategory::InvalidArgument, fmt::format("'{}' is too large", text));
  return static_cast<std::uint64_t>(value * scale);
}

Result<std::pair<std::string, std::string>> parse_header(const std::string& line) {
  const auto colon = line.find(':');
  if (colon == std::string::npos || colon == 0)
    return fail(ErrorCategory::InvalidArgument, fmt::format("bad header '{}' (want 'Name: value')", line));
  std::string name = line.substr(0, colon);
  for (char c : name)
    if (std::isspace(static_cast<unsigned char>(c)) || c == '\r' || c == '\n')
      return fail(ErrorCategory::InvalidArgument, fmt::format("bad header name '{}'", name));
  std::string value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
  if (value.find_first_of("\r\n") != std::string::npos)
    return fail(ErrorCategory::InvalidArgument, "header values cannot contain line breaks");
  return std::make_pair(std::move(name), std::move(value));
}

std::string default_journal_dir() {
  if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state)
    return std::string(state) + "/xfer";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/state/xfer";
}

std::string file_name_from_url(const std::string& url) {
  std::string path = url;
  if (const auto cut = path.find_first_of("?#"); cut != std::string::npos) path.resize(cut);
  if (const auto scheme = path.find("://"); scheme != std::string::npos) {
    path = path.substr(scheme + 3);
    const auto slash = path.find('/');
    path = slash == std::string::npos ? "" : path.substr(slash);
  }
  const auto last = path.rfind('/');
  std::string name = last == std::string::npos ? path : path.substr(last + 1);
  if (name.empty() || name == "." || name == "..") name = "index.html";
  return name;
}

Result<std::chrono::milliseconds> parse_duration(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (...) {
    return fail(ErrorCategory::InvalidArgument, fmt::format("bad duration '{}'", text));
  }
  const std::string unit = text.substr(used);
  double scale = 1000;
  if (unit == "ms") scale = 1;
  else if (unit.empty() || unit == "s") scale = 1000;
  else if (unit == "m") scale = 60e3;
  else if (unit == "h") scale = 3600e3;
  else if (unit == "d") scale = 86400e3;
  else
    return fail(ErrorCategory::InvalidArgument,
                fmt::format("bad duration unit in '{}' (ms, s, m, h, d)", text));
  if (!(value > 0) || !std::isfinite(value) || value * scale > 3.0e12)
    return fail(ErrorCategory::InvalidArgument, fmt::format("duration out of range: '{}'", text));
  return std::chrono::milliseconds(static_cast<std::int64_t>(value * scale));
}

std::string userinfo_from_user(const std::string& user_colon_password) {
  // RFC 3986 userinfo: unreserved and sub-delims stay, everything else is percent-encoded
  // (the first ':' separates user from password and stays).
  auto encode = [](std::string_view part) {
    std::string out;
    for (unsigned char c : part) {
      if (std::isalnum(c) || std::string_view("-._~!$&'()*+,;=").find(static_cast<char>(c)) !=
                                 std::string_view::npos)
        out.push_back(static_cast<char>(c));
      else
        out += fmt::format("%{:02X}", c);
    }
    return out;
  };
  const auto colon = user_colon_password.find(':');
  if (colon == std::string::npos) return encode(user_colon_password);
  return encode(std::string_view(user_colon_password).substr(0, colon)) + ":" +
         encode(std::string_view(user_colon_password).substr(colon + 1));
}

std::string percent_encode_segment(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
      out.push_back(static_cast<char>(c));
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string human_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}


std::string iso_utc(std::chrono::system_clock::time_point at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

std::optional<std::chrono::system_clock::time_point> parse_iso_utc(const std::string& text) {
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) return std::nullopt;
  int ms = 0;
  if (*end == '.') {
    if (std::sscanf(end + 1, "%3d", &ms) != 1 || std::strlen(end) != 5) return std::nullopt;
    end += 4;
  }
  if (std::string(end) != "Z") return std::nullopt;
  return std::chrono::system_clock::from_time_t(::timegm(&tm)) + std::chrono::milliseconds(ms);
}

const char* direction_name(Direction d) { return d == Direction::Download ? "download" : "upload"; }

std::string digest_line(const std::string& digest, const std::string& path) {
  const auto colon = digest.find(':');
  if (colon == std::string::npos) return {};
  return digest.substr(colon + 1) + "  " + path;
}

}  // namespace xfer::cli
