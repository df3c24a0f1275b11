#include "cli/manifest.h"

#include <cctype>
#include <charconv>
#include <functional>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/options.h"

namespace xfer::cli {
namespace {

using nlohmann::json;

bool is_blank(const std::string& text) {
  for (unsigned char c : text)
    if (!std::isspace(c)) return false;
  return true;
}

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string trim(const std::string& text) {
  std::size_t a = 0, b = text.size();
  while (a < b && std::isspace(static_cast<unsigned char>(text[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(text[b - 1]))) --b;
  return text.substr(a, b - a);
}

// Text of a manifest value in an error, cut short and with control bytes escaped.
std::string shown(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text.substr(0, 120)) {
    if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out.push_back(static_cast<char>(c));
  }
  if (text.size() > 120) out += "...";
  return out + "\"";
}

std::optional<Direction> direction_named(const std::string& name) {
  if (name == "download") return Direction::Download;
  if (name == "upload") return Direction::Upload;
  return std::nullopt;
}

std::optional<std::int32_t> parse_priority(const std::string& text) {
  const std::string t = trim(text);
  std::int32_t value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size() || t.empty()) return std::nullopt;
  return value;
}

// One CSV record (RFC 4180: quoted fields may hold commas, doubled quotes and line breaks),
// pulling continuation lines from `more` while a quote is open.
std::optional<std::vector<std::string>> split_csv(std::string text, const std::function<std::optional<std::string>()>& more,
                                                  std::string& why) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted_field = false, in_quotes = false, after_quote = false;
  std::size_t i = 0;
  for (;;) {
    if (i == text.size()) {
      if (!in_quotes) break;
      auto next = more();
      if (!next) {
        why = "a quoted field is not closed before the end of the input";
        return std::nullopt;
      }
      field.push_back('\n');
      text = std::move(*next);
      i = 0;
      continue;
    }
    const char c = text[i++];
    if (in_quotes) {
      if (c != '"') {
        field.push_back(c);
      } else if (i < text.size() && text[i] == '"') {
        field.push_back('"');
        ++i;
      } else {
        in_quotes = false;
        after_quote = true;
      }
    } else if (c == ',') {
      fields.push_back(quoted_field ? field : trim(field));
      field.clear();
      quoted_field = after_quote = false;
    } else if (c == '"' && !quoted_field && trim(field).empty()) {
      field.clear();
      quoted_field = in_quotes = true;
    } else if (after_quote) {
      if (!std::isspace(static_cast<unsigned char>(c))) {
        why = fmt::format("text after a closing quote in field {}", fields.size() + 1);
        return std::nullopt;
      }
    } else {
      field.push_back(c);
    }
  }
  fields.push_back(quoted_field ? field : trim(field));
  return fields;
}

std::optional<std::string> normalize_checksum(std::string& checksum) {
  if (checksum.empty()) return std::nullopt;
  const auto colon = checksum.find(':');
  const std::string name = lower(checksum.substr(0, colon));
  std::size_t want = 0;
  if (name == "sha256" || name == "sha-256") want = 64;
  else if (name == "sha512" || name == "sha-512") want = 128;
  if (colon == std::string::npos || want == 0)
    return fmt::format("checksum {}: expected sha256:<hex> or sha512:<hex>", shown(checksum));
  std::string hex = lower(checksum.substr(colon + 1));
  if (hex.size() != want || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
    return fmt::format("checksum {}: {} needs {} hexadecimal digits", shown(checksum), name, want);
  checksum = (want == 64 ? "sha256:" : "sha512:") + hex;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_entry_form(ManifestEntry& entry) {
  if (entry.url.empty()) return "no \"url\"";
  const std::string scheme = lower(entry.url.substr(0, entry.url.find("://")));
  if (entry.url.find("://") == std::string::npos || (scheme != "http" && scheme != "https"))
    return fmt::format("url {} is not an http:// or https:// URL", shown(entry.url));
  for (unsigned char c : entry.url)
    if (c <= 0x20 || c == 0x7f) return fmt::format("url {} contains a space or a control character", shown(entry.url));
  if (entry.file.empty()) return "no \"file\"";
  if (entry.file.find('\0') != std::string::npos) return "\"file\" contains a NUL byte";
  if (auto why = normalize_checksum(entry.checksum)) return why;
  for (const auto& [name, value] : entry.headers) {
    for (unsigned char c : name + value)
      if ((c < 0x20 && c != '\t') || c == 0x7f) return fmt::format("header {}: control character", shown(name));
    auto parsed = parse_header(name + ": " + value);
    if (!parsed || parsed->first != name) return fmt::format("header {}: bad name or value", shown(name));
  }
  return std::nullopt;
}

ManifestReader::ManifestReader(ByteSource& source, std::size_t max_line) : lines_reader_(source, max_line) {}

std::optional<Line> ManifestReader::next_line() {
  auto line = lines_reader_.next();
  if (line) {
    lines_ = line->number;
    // A UTF-8 byte order mark is not part of the first line's text.
    if (line->number == 1 && line->text.starts_with("\xEF\xBB\xBF")) line->text.erase(0, 3);
  } else if (lines_reader_.error()) {
    fatal_ = lines_reader_.error();
  }
  return line;
}

const std::optional<Error>& ManifestReader::start() {
  if (!started_) {
    started_ = true;
    pending_ = read_item();
  }
  return fatal_;
}

std::optional<ManifestItem> ManifestReader::next() {
  if (!started_) start();
  if (pending_) {
    auto item = std::move(pending_);
    pending_.reset();
    return item;
  }
  return read_item();
}

std::optional<ManifestItem> ManifestReader::read_item() {
  while (!fatal_) {
    auto line = next_line();
    if (!line) return std::nullopt;
    if (line->too_long)
      return ManifestError{line->number, fmt::format("line longer than {} bytes", LineReader::kDefaultMaxLine)};
    if (is_blank(line->text)) continue;
    if (!format_) {
      if (trim(line->text).starts_with('{')) {
        format_ = ManifestFormat::JsonLines;
      } else {
        format_ = ManifestFormat::Csv;
        if (!read_csv_header(*line)) return std::nullopt;
        continue;
      }
    }
    return *format_ == ManifestFormat::JsonLines ? from_json(*line) : from_csv(*line);
  }
  return std::nullopt;
}

std::optional<ManifestItem> ManifestReader::from_json(const Line& line) {
  auto error = [&](std::string why) -> ManifestItem { return ManifestError{line.number, std::move(why)}; };
  json object;
  try {
    object = json::parse(line.text);
  } catch (const json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 9: ..." without its prefix.
    std::string what = e.what();
    if (const auto at = what.find("parse error"); at != std::string::npos) what = what.substr(at);
    // The JSON text is the one line: its "line 1" would only confuse.
    if (const auto at = what.find("at line 1, column"); at != std::string::npos) what.replace(at, 10, "at");
    return error("not valid JSON: " + what);
  }
  if (!object.is_object()) return error("not a JSON object (JSON Lines: one object per line)");
  ManifestEntry entry;
  entry.line = line.number;
  bool has_direction = false;
  for (const auto& [key, value] : object.items()) {
    auto want_string = [&](std::string& into) -> std::optional<std::string> {
      if (!value.is_string()) return fmt::format("\"{}\" must be a string", key);
      into = value.get<std::string>();
      return std::nullopt;
    };
    std::optional<std::string> why;
    if (key == "direction") {
      std::string name;
      why = want_string(name);
      if (!why) {
        auto d = direction_named(lower(name));
        if (!d) why = fmt::format("\"direction\" is \"download\" or \"upload\", not {}", shown(name));
        else entry.direction = *d;
        has_direction = true;
      }
    } else if (key == "url") {
      why = want_string(entry.url);
    } else if (key == "file") {
      why = want_string(entry.file);
    } else if (key == "checksum") {
      if (!value.is_null()) why = want_string(entry.checksum);
    } else if (key == "priority") {
      constexpr auto kMin = std::numeric_limits<std::int32_t>::min();
      constexpr auto kMax = std::numeric_limits<std::int32_t>::max();
      const bool fits = value.is_number_unsigned() ? value.get<std::uint64_t>() <= std::uint64_t{kMax}
                        : value.is_number_integer() ? value.get<std::int64_t>() >= kMin && value.get<std::int64_t>() <= kMax
                                                    : false;
      if (!fits) why = "\"priority\" must be a 32-bit integer";
      else entry.priority = static_cast<std::int32_t>(value.get<std::int64_t>());
    } else if (key == "headers") {
      // {"Name": "value", ...} or ["Name: value", ...] (the form of -H).
      if (value.is_object()) {
        for (const auto& [name, v] : value.items()) {
          if (!v.is_string()) {
            why = fmt::format("header {} must have a string value", shown(name));
            break;
          }
          entry.headers.emplace_back(name, v.get<std::string>());
        }
      } else if (value.is_array()) {
        for (const auto& h : value) {
          auto parsed = h.is_string() ? parse_header(h.get<std::string>()) : fail(ErrorCategory::InvalidArgument, "not a string");
          if (!parsed) {
            why = "\"headers\" entries are \"Name: value\" strings";
            break;
          }
          entry.headers.push_back(*parsed);
        }
      } else {
        why = "\"headers\" must be an object or an array of \"Name: value\" strings";
      }
    } else {
      // A misspelt key must not silently drop what it meant (a checksum, say).
      why = fmt::format("unknown key {} (known: direction, url, file, checksum, priority, headers)", shown(key));
    }
    if (why) return error(*why);
  }
  if (!has_direction) return error("no \"direction\" (\"download\" or \"upload\")");
  if (auto why = check_entry_form(entry)) return error(*why);
  return entry;
}

bool ManifestReader::read_csv_header(const Line& line) {
  std::string why;
  auto fields = split_csv(line.text, [] { return std::optional<std::string>(); }, why);
  auto refuse = [&](const std::string& reason) {
    fatal_ = Error(ErrorCategory::InvalidArgument,
                   fmt::format("manifest line {}: {} (a manifest is JSON Lines, or CSV with a header row "
                               "naming direction,url,file[,checksum][,priority])",
                               line.number, reason));
    return false;
  };
  if (!fields) return refuse(why);
  columns_ = fields->size();
  for (std::size_t i = 0; i < fields->size(); ++i) {
    const std::string name = lower((*fields)[i]);
    int* column = name == "direction" ? &col_direction_
                  : name == "url"     ? &col_url_
                  : name == "file"    ? &col_file_
                  : name == "checksum" ? &col_checksum_
                  : name == "priority" ? &col_priority_
                                       : nullptr;
    if (!column) return refuse(fmt::format("not a JSON object, and {} is not a CSV column", shown((*fields)[i])));
    if (*column >= 0) return refuse(fmt::format("column {} appears twice", shown(name)));
    *column = static_cast<int>(i);
  }
  if (col_direction_ < 0 || col_url_ < 0 || col_file_ < 0)
    return refuse("the CSV header lacks direction, url or file");
  return true;
}

std::optional<ManifestItem> ManifestReader::from_csv(const Line& first) {
  std::string why;
  bool too_long = false;
  auto more = [&]() -> std::optional<std::string> {
    auto line = next_line();
    if (!line) return std::nullopt;
    if (line->too_long) too_long = true;
    return line->text;
  };
  auto fields = split_csv(first.text, more, why);
  if (fatal_) return std::nullopt;
  auto error = [&](std::string reason) -> ManifestItem { return ManifestError{first.number, std::move(reason)}; };
  if (too_long) return error(fmt::format("a line of this record is longer than {} bytes", LineReader::kDefaultMaxLine));
  if (!fields) return error(why);
  if (fields->size() != columns_)
    return error(fmt::format("{} fields, the header names {}", fields->size(), columns_));
  ManifestEntry entry;
  entry.line = first.number;
  const auto& f = *fields;
  auto d = direction_named(lower(f[col_direction_]));
  if (!d) return error(fmt::format("direction is \"download\" or \"upload\", not {}", shown(f[col_direction_])));
  entry.direction = *d;
  entry.url = f[col_url_];
  entry.file = f[col_file_];
  if (col_checksum_ >= 0) entry.checksum = f[col_checksum_];
  if (col_priority_ >= 0 && !f[col_priority_].empty()) {
    auto p = parse_priority(f[col_priority_]);
    if (!p) return error(fmt::format("priority {} is not a 32-bit integer", shown(f[col_priority_])));
    entry.priority = *p;
  }
  if (auto reason = check_entry_form(entry)) return error(*reason);
  return entry;
}

}  // namespace xfer::cli
