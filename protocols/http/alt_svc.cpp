#include "protocols/http/alt_svc.h"

#include <charconv>
#include <limits>

namespace xfer::protocols {
namespace {

// RFC 9110 tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~': return true;
    default: return false;
  }
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  void skip_ows() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  bool done() const { return i_ >= s_.size(); }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  std::optional<std::string> token() {
    const std::size_t start = i_;
    while (i_ < s_.size() && is_tchar(s_[i_])) ++i_;
    if (i_ == start) return std::nullopt;
    return std::string(s_.substr(start, i_ - start));
  }
  std::optional<std::string> quoted() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (i_ >= s_.size()) return std::nullopt;
        out.push_back(s_[i_++]);
      } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return std::nullopt;
      } else {
        out.push_back(c);
      }
    }
    return std::nullopt;
  }
  // A token or a quoted string (parameter values may be either).
  std::optional<std::string> word() {
    if (i_ < s_.size() && s_[i_] == '"') return quoted();
    return token();
  }
  // Skips to the next top-level comma (past an entry that did not parse).
  void skip_entry() {
    bool in_quotes = false;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (in_quotes && c == '\\') {
        i_ += 2;
        continue;
      }
      if (c == '"') in_quotes = !in_quotes;
      if (c == ',' && !in_quotes) return;
      ++i_;
    }
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    unsigned value = 0;
    const auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
    if (r.ec != std::errc() || r.ptr != s.data() + i + 3) return std::nullopt;
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

// alt-authority: [uri-host] ":" port.
bool parse_authority(std::string_view a, AltSvcEntry& e) {
  const auto colon = a.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = a.substr(0, colon);
  const std::string_view port = a.substr(colon + 1);
  unsigned value = 0;
  const auto r = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || r.ec != std::errc() || r.ptr != port.data() + port.size() || value == 0 || value > 65535)
    return false;
  if (host.find_first_of(" \t/?#@") != std::string_view::npos) return false;
  e.host = std::string(host);
  e.port = static_cast<std::uint16_t>(value);
  return true;
}

}  // namespace

std::optional<AltSvcField> parse_alt_svc(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  AltSvcField field;
  if (value == "clear") {
    field.clear = true;
    return field;
  }
  Reader r(value);
  bool any_syntax = false;
  while (!r.done()) {
    r.skip_ows();
    if (r.eat(',')) continue;  // empty list elements are allowed
    AltSvcEntry entry;
    bool ok = false;
    if (auto id = r.token(); id && r.eat('=')) {
      auto authority = r.quoted();
      auto alpn = percent_decode(*id);
      ok = authority && alpn && !alpn->empty() && parse_authority(*authority, entry);
      if (ok) entry.alpn = *alpn;
      // Parameters: ma is the only one that matters here; persist and unknown ones are ignored.
      while (ok) {
        r.skip_ows();
        if (!r.eat(';')) break;
        r.skip_ows();
        auto name = r.token();
        if (!name || !r.eat('=')) {
          ok = false;
          break;
        }
        auto param = r.word();
        if (!param) {
          ok = false;
          break;
        }
        if (*name == "ma") {
          std::uint64_t ma = 0;
          const auto c = std::from_chars(param->data(), param->data() + param->size(), ma);
          if (param->empty() || c.ptr != param->data() + param->size()) {
            ok = false;
            break;
          }
          // Too large for from_chars: as good as forever (capped later by the cache).
          entry.max_age_seconds = c.ec == std::errc() ? ma : std::numeric_limits<std::uint64_t>::max();
        }
      }
      r.skip_ows();
      if (ok && !r.done() && !r.eat(',')) ok = false;
    }
    if (ok) {
      any_syntax = true;
      field.entries.push_back(std::move(entry));
    } else {
      r.skip_entry();
      r.eat(',');
    }
  }
  if (!any_syntax) return std::nullopt;
  return field;
}

}  // namespace xfer::protocols
