#include "protocols/http/url.h"

#include <arpa/inet.h>

#include <cstring>

#include <fmt/format.h>

namespace xfer::protocols {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) { return c != '\0' && std::strchr("!$&'()*+,;=", c) != nullptr; }
bool is_pchar(char c) { return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@'; }
// What a browser percent-encodes in a path or query instead of refusing (see url.h).
bool is_repairable(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (c != '\0' && std::strchr("\"<>[]^`{|}", c) != nullptr);
}
// Never valid, and the characters other parsers are known to read differently.
bool is_forbidden(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f || c == '\\';
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::unexpected<Error> bad(std::string_view what, std::string_view text) {
  return fail(ErrorCategory::InvalidArgument, fmt::format("bad URL ({}): {:.200}", what, text));
}

bool valid_escape(std::string_view s, std::size_t i) {
  return i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2]);
}

// A path, query or fragment: checked character by character, repaired where url.h says.
Result<std::string> component(std::string_view s, bool query_chars, std::string_view what,
                              std::string_view text) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (!valid_escape(s, i)) return bad(fmt::format("bad percent-escape in {}", what), text);
      out.append(s.substr(i, 3));
      i += 2;
    } else if (is_forbidden(c)) {
      return bad(fmt::format("control character, space or backslash in {}", what), text);
    } else if (is_pchar(c) || c == '/' || (query_chars && c == '?')) {
      out.push_back(c);
    } else if (is_repairable(c)) {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      return bad(fmt::format("'{}' in {}", c, what), text);
    }
  }
  return out;
}

Result<std::optional<std::uint16_t>> parse_port(std::string_view s, std::string_view text) {
  if (s.empty()) return std::optional<std::uint16_t>();
  std::uint32_t value = 0;
  for (const char c : s) {
    if (!is_digit(c)) return bad("port is not a number", text);
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) return bad("port above 65535", text);
  }
  return std::optional<std::uint16_t>(static_cast<std::uint16_t>(value));
}

Result<std::string> parse_host(std::string_view s, std::string_view text) {
  if (!s.empty() && s.front() == '[') {
    if (s.back() != ']') return bad("unterminated IPv6 literal", text);
    const std::string literal(s.substr(1, s.size() - 2));
    if (!literal.empty() && (literal[0] == 'v' || literal[0] == 'V')) {
      return bad("IPvFuture literal", text);
    }
    in6_addr addr{};
    if (literal.find('%') != std::string::npos ||
        inet_pton(AF_INET6, literal.c_str(), &addr) != 1) {
      return bad("invalid IPv6 literal", text);
    }
    char canonical[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, &addr, canonical, sizeof canonical);
    return "[" + std::string(canonical) + "]";
  }
  std::string host;
  host.reserve(s.size());
  for (const char c : s) {
    if (!is_unreserved(c)) return bad("host may only hold letters, digits and -._~", text);
    host.push_back(lower(c));
  }
  return host;
}

Result<void> parse_authority(std::string_view a, Url& url, std::string_view text) {
  std::string_view hostport = a;
  if (const std::size_t at = a.find('@'); at != std::string_view::npos) {
    if (a.find('@', at + 1) != std::string_view::npos) return bad("more than one '@'", text);
    const std::string_view info = a.substr(0, at);
    for (std::size_t i = 0; i < info.size(); ++i) {
      if (info[i] == '%' && valid_escape(info, i)) {
        i += 2;
      } else if (!(is_unreserved(info[i]) || is_sub_delim(info[i]) || info[i] == ':')) {
        return bad("userinfo", text);
      }
    }
    url.userinfo = std::string(info);
    hostport = a.substr(at + 1);
  }
  std::string_view host = hostport;
  std::string_view port;
  if (!hostport.empty() && hostport.front() == '[') {
    const std::size_t close = hostport.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal", text);
    host = hostport.substr(0, close + 1);
    const std::string_view rest = hostport.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("junk after IPv6 literal", text);
      port = rest.substr(1);
    }
  } else if (const std::size_t colon = hostport.find(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  Result<std::string> parsed_host = parse_host(host, text);
  if (!parsed_host) return std::unexpected(parsed_host.error());
  Result<std::optional<std::uint16_t>> parsed_port = parse_port(port, text);
  if (!parsed_port) return std::unexpected(parsed_port.error());
  url.host = std::move(*parsed_host);
  url.port = *parsed_port;
  return {};
}

// RFC 3986 Appendix B's split, with every component validated. An empty scheme means a
// relative reference.
Result<Url> parse_reference(std::string_view text) {
  Url url;
  std::size_t pos = 0;
  if (const std::size_t colon = text.find_first_of(":/?#");
      colon != std::string_view::npos && text[colon] == ':') {
    const std::string_view scheme = text.substr(0, colon);
    if (scheme.empty() || !is_alpha(scheme[0])) return bad("scheme", text);
    for (const char c : scheme) {
      if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) {
        return bad("scheme", text);
      }
      url.scheme.push_back(lower(c));
    }
    pos = colon + 1;
  }
  if (text.substr(pos).starts_with("//")) {
    const std::size_t end = std::min(text.find_first_of("/?#", pos + 2), text.size());
    if (auto r = parse_authority(text.substr(pos + 2, end - pos - 2), url, text); !r) {
      return std::unexpected(r.error());
    }
    pos = end;
  }
  const std::size_t path_end = std::min(text.find_first_of("?#", pos), text.size());
  Result<std::string> path = component(text.substr(pos, path_end - pos), false, "path", text);
  if (!path) return std::unexpected(path.error());
  url.path = std::move(*path);
  pos = path_end;
  if (pos < text.size() && text[pos] == '?') {
    const std::size_t end = std::min(text.find('#', pos), text.size());
    Result<std::string> query = component(text.substr(pos + 1, end - pos - 1), true, "query", text);
    if (!query) return std::unexpected(query.error());
    url.query = std::move(*query);
    pos = end;
  }
  if (pos < text.size()) {  // '#'
    Result<std::string> fragment = component(text.substr(pos + 1), true, "fragment", text);
    if (!fragment) return std::unexpected(fragment.error());
    url.fragment = std::move(*fragment);
  }
  return url;
}

Result<Url> with_http_rules(Url url, std::string_view text) {
  if (!url.is_http()) return url;
  if (!url.host || url.host->empty()) return bad("no host", text);
  if (url.port == 0) return bad("port 0", text);
  if (url.path.empty()) url.path = "/";
  return url;
}

// RFC 3986 §5.2.3.
std::string merge(const Url& base, std::string_view path) {
  if (base.host && base.path.empty()) return "/" + std::string(path);
  const std::size_t slash = base.path.rfind('/');
  if (slash == std::string::npos) return std::string(path);
  return base.path.substr(0, slash + 1) + std::string(path);
}

}  // namespace

std::uint16_t Url::effective_port() const {
  if (port) return *port;
  if (scheme == "http") return 80;
  if (scheme == "https") return 443;
  return 0;
}

std::string Url::origin() const {
  if (!is_http() || !host) return {};
  return fmt::format("{}://{}:{}", scheme, *host, effective_port());
}

std::string Url::without_fragment() const {
  std::string out = scheme + ":";
  if (host) {
    out += "//";
    if (userinfo) out += *userinfo + "@";
    out += *host;
    if (port) out += fmt::format(":{}", *port);
  }
  out += path;
  if (query) out += "?" + *query;
  return out;
}

std::string Url::to_string() const {
  return fragment ? without_fragment() + "#" + *fragment : without_fragment();
}

Result<Url> Url::parse(std::string_view text) {
  Result<Url> url = parse_reference(text);
  if (!url) return url;
  if (url->scheme.empty()) return bad("not absolute", text);
  return with_http_rules(std::move(*url), text);
}

Result<Url> Url::parse_http(std::string_view text) {
  Result<Url> url = parse(text);
  if (url && !url->is_http()) return bad("not http or https", text);
  return url;
}

Result<Url> Url::resolve(std::string_view reference) const {
  const Url& base = *this;
  if (base.scheme.empty()) return bad("base is not absolute", base.to_string());
  Result<Url> parsed = parse_reference(reference);
  if (!parsed) return parsed;
  Url& r = *parsed;
  Url t;
  if (!r.scheme.empty()) {
    t = r;
    t.path = remove_dot_segments(r.path);
  } else {
    if (r.host) {
      t.userinfo = r.userinfo;
      t.host = r.host;
      t.port = r.port;
      t.path = remove_dot_segments(r.path);
      t.query = r.query;
    } else {
      if (r.path.empty()) {
        t.path = base.path;
        t.query = r.query ? r.query : base.query;
      } else {
        t.path = remove_dot_segments(r.path.starts_with('/') ? r.path : merge(base, r.path));
        t.query = r.query;
      }
      t.userinfo = base.userinfo;
      t.host = base.host;
      t.port = base.port;
    }
    t.scheme = base.scheme;
  }
  t.fragment = r.fragment;
  // RFC 3986 §3.3: without an authority a path cannot begin with "//", or it would read back as
  // one ("x:" + "//g" is host g). Dot-segment removal makes such a path from "x:..//g" or from a
  // base without authority; refused, like anything else another parser could read differently.
  if (!t.host && t.path.starts_with("//")) return bad("path would read as an authority", reference);
  return with_http_rules(std::move(t), reference);
}

std::string Url::remove_dot_segments(std::string_view path) {
  static constexpr std::string_view kSlash = "/";
  std::string_view in = path;
  std::string out;
  out.reserve(path.size());
  auto pop_segment = [&out] {
    const std::size_t slash = out.rfind('/');
    out.erase(slash == std::string::npos ? 0 : slash);
  };
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = kSlash;
    } else if (in.starts_with("/../")) {
      in.remove_prefix(3);
      pop_segment();
    } else if (in == "/..") {
      in = kSlash;
      pop_segment();
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      const std::size_t next = std::min(in.find('/', 1), in.size());
      out.append(in.substr(0, next));
      in.remove_prefix(next);
    }
  }
  return out;
}

}  // namespace xfer::protocols
