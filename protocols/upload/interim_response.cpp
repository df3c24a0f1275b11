#include "protocols/upload/interim_response.h"

#include <fmt/format.h>

namespace xfer::protocols {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool has_forbidden_chars(std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || c == '\\') return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::uint16_t default_port(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

// A scheme per RFC 3986 §3.1 followed by ':'; its length, or 0.
std::size_t scheme_length(std::string_view s) {
  if (s.empty() || !is_alpha(s[0])) return 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ':') return i;
    if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) return 0;
  }
  return 0;
}

// RFC 3986 §5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../") || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      const auto slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      const std::size_t start = in.front() == '/' ? 1 : 0;
      const auto next = in.find('/', start);
      const auto len = next == std::string_view::npos ? in.size() : next;
      out.append(in.substr(0, len));
      in.remove_prefix(len);
    }
  }
  return out;
}

std::string strip_fragment(std::string_view s) {
  const auto hash = s.find('#');
  return std::string(hash == std::string_view::npos ? s : s.substr(0, hash));
}

const std::string* find_field(const ResponseHeaders& head, std::string_view name) {
  return head.find(name);
}

}  // namespace

std::string HttpUrl::origin() const { return fmt::format("{}://{}:{}", scheme, host, port); }

std::string HttpUrl::to_string() const {
  if (port == default_port(scheme)) return fmt::format("{}://{}{}", scheme, host, path);
  return fmt::format("{}://{}:{}{}", scheme, host, port, path);
}

std::optional<HttpUrl> parse_http_url(std::string_view url) {
  if (url.size() > 8192 || has_forbidden_chars(url)) return std::nullopt;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  HttpUrl out;
  for (const char c : url.substr(0, sep)) out.scheme.push_back(lower(c));
  if (out.scheme != "http" && out.scheme != "https") return std::nullopt;
  std::string_view rest = url.substr(sep + 3);
  const auto end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;

  std::string_view host;
  std::string_view port_text;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(0, close + 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_text = after.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;
  }
  if (host.empty() || host == "[]") return std::nullopt;
  for (const char c : host) out.host.push_back(lower(c));
  out.port = default_port(out.scheme);
  if (!port_text.empty()) {
    if (port_text.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (const char c : port_text) {
      if (!is_digit(c)) return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return std::nullopt;
    out.port = static_cast<std::uint16_t>(value);
  }
  out.path = strip_fragment(rest);
  if (out.path.empty() || out.path.front() == '?') out.path.insert(0, "/");
  return out;
}

Result<HttpUrl> resolve_url(const HttpUrl& base, std::string_view reference) {
  const auto bad = [&](std::string_view why) {
    return std::unexpected(Error(ErrorCategory::Protocol,
                                 fmt::format("cannot resolve '{}': {}", reference.substr(0, 200), why)));
  };
  reference = trim(reference);
  if (reference.size() > 8192 || has_forbidden_chars(reference)) return bad("invalid characters");
  const std::string ref = strip_fragment(reference);
  if (scheme_length(ref) > 0) {
    auto url = parse_http_url(ref);
    if (!url) return bad("not an absolute http(s) URL");
    url->path = remove_dot_segments(url->path.substr(0, url->path.find('?'))) +
                (url->path.find('?') == std::string::npos ? "" : url->path.substr(url->path.find('?')));
    if (url->path.empty() || url->path.front() != '/') url->path.insert(0, "/");
    return *url;
  }
  if (ref.starts_with("//")) {
    auto url = parse_http_url(base.scheme + ":" + ref);
    if (!url) return bad("malformed network-path reference");
    return resolve_url(*url, url->path);
  }
  const auto base_q = base.path.find('?');
  const std::string base_path = base.path.substr(0, base_q);
  const std::string base_query = base_q == std::string::npos ? "" : base.path.substr(base_q);
  const auto ref_q = ref.find('?');
  const std::string ref_path = ref.substr(0, ref_q);
  const std::string ref_query = ref_q == std::string::npos ? "" : ref.substr(ref_q);

  HttpUrl out = base;
  if (ref_path.empty()) {
    out.path = base_path + (ref_q == std::string::npos ? base_query : ref_query);
    return out;
  }
  std::string merged;
  if (ref_path.front() == '/') {
    merged = ref_path;
  } else {
    const auto slash = base_path.rfind('/');
    merged = (slash == std::string::npos ? "/" : base_path.substr(0, slash + 1)) + ref_path;
  }
  out.path = remove_dot_segments(merged);
  if (out.path.empty() || out.path.front() != '/') out.path.insert(0, "/");
  out.path += ref_query;
  return out;
}

bool same_origin(const HttpUrl& a, const HttpUrl& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port;
}

InterimDecision judge_interim(const ResponseHeaders& interim, const UploadDialect& dialect,
                              const HttpUrl& request_url,
                              const std::optional<std::string>& known_upload_url,
                              std::optional<std::uint64_t> last_offset) {
  InterimDecision d;
  const auto violation = [&](std::string why) {
    InterimDecision v;
    v.verdict = InterimVerdict::Violation;
    v.reason = std::move(why);
    return v;
  };
  if (interim.status != 104) {
    d.reason = fmt::format("interim status {} is not 104", interim.status);
    return d;
  }
  const auto* version = find_field(interim, "upload-draft-interop-version");
  if (version == nullptr || trim(*version) != fmt::format("{}", dialect.interop_version)) {
    d.reason = fmt::format("104 for interop version '{}', we speak {}",
                           version ? trim(*version).substr(0, 20) : std::string_view("none"),
                           dialect.interop_version);
    return d;
  }
  if (const auto* location = find_field(interim, "location")) {
    auto resolved = resolve_url(request_url, *location);
    if (!resolved) return violation(resolved.error().message());
    if (!same_origin(*resolved, request_url)) {
      return violation(fmt::format("104 Location {} leaves origin {}", resolved->origin(),
                                   request_url.origin()));
    }
    const std::string url = resolved->to_string();
    if (known_upload_url) {
      const auto known = parse_http_url(*known_upload_url);
      if (!known || known->to_string() != url) {
        return violation(fmt::format("104 Location changed from {} to {}", *known_upload_url, url));
      }
    }
    d.upload_url = url;
  }
  if (const auto* offset_text = find_field(interim, "upload-offset")) {
    const auto offset = parse_upload_offset(*offset_text);
    if (!offset) return violation(fmt::format("malformed Upload-Offset '{}'", offset_text->substr(0, 40)));
    if (last_offset && *offset < *last_offset) {
      return violation(fmt::format("Upload-Offset went backwards from {} to {}", *last_offset, *offset));
    }
    d.offset = offset;
  }
  if (const auto* limit_text = find_field(interim, "upload-limit"); limit_text && dialect.has_upload_limit) {
    auto limits = parse_upload_limit(*limit_text, dialect);
    if (limits) d.limits = *limits;  // an invalid Upload-Limit is ignored, as the draft allows
  }
  d.verdict = InterimVerdict::Accept;
  return d;
}

}  // namespace xfer::protocols
