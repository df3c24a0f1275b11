#include "protocols/curl/response_head_collector.h"

#include "base/ascii.h"
#include <string>

#include <fmt/format.h>

namespace xfer::protocols::curl {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::optional<int> parse_status_line(std::string_view line) {
  line = trim(line);
  if (!line.starts_with("HTTP/")) return std::nullopt;
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view rest = line.substr(space + 1);
  if (rest.size() < 3) return std::nullopt;
  int status = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    const char c = rest[i];
    if (c < '0' || c > '9') return std::nullopt;
    status = status * 10 + (c - '0');
  }
  if (rest.size() > 3 && rest[3] != ' ') return std::nullopt;
  if (status < 100) return std::nullopt;
  return status;
}

Result<std::optional<HeaderBlock>> ResponseHeadCollector::feed(std::string_view line) {
  total_bytes_ += line.size();
  if (total_bytes_ > max_total_bytes_) {
    return fail(ErrorCategory::Protocol,
                fmt::format("response header too large: headers exceed {} bytes",
                            max_total_bytes_));
  }
  const std::string_view content = trim(line);
  if (!in_block_) {
    if (line.starts_with("HTTP/")) {
      const std::optional<int> status = parse_status_line(line);
      if (!status) {
        return fail(ErrorCategory::Protocol,
                    fmt::format("malformed status line: {:.80}", std::string(content)));
      }
      current_ = HeaderBlock{};
      current_.head.status = *status;
      in_block_ = true;
    }
    return std::nullopt;  // trailers and stray lines: counted, not delivered
  }
  if (content.empty()) {
    in_block_ = false;
    return std::optional<HeaderBlock>(std::move(current_));
  }
  if ((line.front() == ' ' || line.front() == '\t') && !current_.head.fields.empty()) {
    std::string& value = current_.head.fields.back().second;  // obsolete line folding
    if (!value.empty()) value += ' ';
    value += content;
    return std::nullopt;
  }
  const std::size_t colon = content.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return fail(ErrorCategory::Protocol,
                fmt::format("malformed header line: {:.80}", std::string(content)));
  }
  current_.head.fields.emplace_back(ascii_lower(trim(content.substr(0, colon))),
                                    std::string(trim(content.substr(colon + 1))));
  return std::nullopt;
}

}  // namespace xfer::protocols::curl
