// Fuzz target: the strict URL parser of redirects and Location values (protocols/http/url),
// which decides where requests — and their credentials — go. Input: line 1 a URL (also the base
// when it parses as http(s)), line 2 a reference. Checks:
//  - a parsed or resolved URL is canonical: lower-case scheme and host, valid percent-escapes
//    only, no forbidden or repairable characters left, no "//" path without an authority,
//    http(s) with a host, a non-zero port and a path starting with '/'; to_string() parses back
//    to the same URL, and origin() names exactly scheme, host and effective port;
//  - parse_http accepts exactly the http(s) URLs parse accepts;
//  - a resolved reference parses back to itself, resolves to itself, stays on the base's
//    origin when it names no scheme or authority, and carries no dot segments when it had a
//    path; remove_dot_segments is idempotent;
//  - the scheduler's origin_of (transfer/engine/origin.cpp) is this parser's origin().
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocols/http/url.h"
#include "tests/fuzz/fuzz_support.h"
#include "transfer/engine/origin.h"

using xfer::protocols::Url;

namespace {

bool same(const Url& a, const Url& b) {
  return a.scheme == b.scheme && a.userinfo == b.userinfo && a.host == b.host && a.port == b.port &&
         a.path == b.path && a.query == b.query && a.fragment == b.fragment;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

void check_component(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    FUZZ_CHECK(c > 0x20 && c < 0x7f && c != '\\');
    FUZZ_CHECK(std::string_view("\"<>[]^`{|}").find(static_cast<char>(c)) == std::string_view::npos);
    if (c == '%') FUZZ_CHECK(i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2]));
  }
}

bool has_dot_segments(std::string_view path) {
  std::size_t pos = 0;
  while (pos <= path.size()) {
    auto slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    const auto seg = path.substr(pos, slash - pos);
    if (seg == "." || seg == "..") return true;
    pos = slash + 1;
  }
  return false;
}

void check_url(const Url& u) {
  FUZZ_CHECK(!u.scheme.empty());
  for (const char c : u.scheme) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  if (u.host) {
    for (const char c : *u.host) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    if (!u.host->starts_with('[')) {
      for (const char c : *u.host) {
        FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~');
      }
    }
    FUZZ_CHECK(u.path.empty() || u.path.front() == '/');
  }
  check_component(u.path);
  if (u.query) check_component(*u.query);
  if (u.fragment) check_component(*u.fragment);
  if (u.is_http()) {
    FUZZ_CHECK(u.host && !u.host->empty());
    FUZZ_CHECK(u.effective_port() != 0);
    FUZZ_CHECK(!u.path.empty() && u.path.front() == '/');
    FUZZ_CHECK(u.origin() == u.scheme + "://" + *u.host + ":" + std::to_string(u.effective_port()));
  } else {
    FUZZ_CHECK(u.origin().empty());
  }
  FUZZ_CHECK(u.host || !u.path.starts_with("//"));  // RFC 3986 §3.3
  const auto again = Url::parse(u.to_string());
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(same(*again, u));
  FUZZ_CHECK(u.without_fragment() + (u.fragment ? "#" + *u.fragment : "") == u.to_string());
}

void check_line(std::string_view line) {
  const auto u = Url::parse(line);
  const auto h = Url::parse_http(line);
  FUZZ_CHECK(h.has_value() == (u.has_value() && u->is_http()));
  if (!u) {
    FUZZ_CHECK(u.error().category() == xfer::ErrorCategory::InvalidArgument);
    return;
  }
  check_url(*u);
  FUZZ_CHECK(xfer::engine::origin_of(line) == (h ? h->origin() : std::string()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 8192) return 0;
  const auto lines = xfer_fuzz::lines(xfer_fuzz::as_text(data, size));
  for (const auto line : lines) check_line(line);

  static const Url kDefaultBase = *Url::parse_http("https://up.example:8443/a/b/c?q=1#f");
  auto parsed = Url::parse_http(lines[0]);
  const Url base = parsed ? *parsed : kDefaultBase;
  const std::string_view reference = lines.size() > 1 ? lines[1] : lines[0];

  const std::string dotless = Url::remove_dot_segments(reference);
  FUZZ_CHECK(Url::remove_dot_segments(dotless) == dotless);
  if (reference.starts_with('/')) FUZZ_CHECK(!has_dot_segments(dotless));

  const auto resolved = base.resolve(reference);
  if (!resolved) {
    FUZZ_CHECK(resolved.error().category() == xfer::ErrorCategory::InvalidArgument);
    return 0;
  }
  check_url(*resolved);
  const auto self = base.resolve(resolved->to_string());
  FUZZ_CHECK(self.has_value());
  if (!has_dot_segments(resolved->path)) FUZZ_CHECK(same(*self, *resolved));

  const auto colon = reference.find_first_of(":/?#");
  const bool has_scheme = colon != std::string_view::npos && reference[colon] == ':';
  if (!has_scheme && !reference.starts_with("//")) FUZZ_CHECK(resolved->origin() == base.origin());
  // The reference's own path (after any scheme and authority): when it has one, the target's
  // path is dot-segment free (RFC 3986 §5.2.2 removes them in every such branch).
  std::string_view ref = reference.substr(0, reference.find_first_of("?#"));
  if (has_scheme) ref.remove_prefix(colon + 1);
  if (ref.starts_with("//")) {
    const auto slash = ref.find('/', 2);
    ref = slash == std::string_view::npos ? std::string_view() : ref.substr(slash);
  }
  if (!ref.empty()) FUZZ_CHECK(!has_dot_segments(resolved->path));
  return 0;
}
