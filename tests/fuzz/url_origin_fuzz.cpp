// Fuzz target: URL and origin parsing on the client: protocols/upload/interim_response's
// parse_http_url / resolve_url / same_origin (which guard invariant 7 for 104 and Location
// URLs) and transfer/engine/origin.cpp's origin_of (the unit of per-origin limits and circuit
// breakers). Input: line 1 a URL (also the base when it parses), line 2 a reference. Checks:
//  - a parsed URL is normalised (lower-case scheme and host, explicit non-zero port, path
//    starting with '/', no fragment) and survives to_string() → parse unchanged;
//  - origin_of agrees with parse_http_url on every URL the latter accepts, and is idempotent;
//  - a resolved reference is a parsed URL again, resolves to itself (once normalised), stays on
//    the base's origin when it is relative, and carries no dot segments when the reference had
//    a path.
#include <cstddef>
#include <cstdint>
#include <string>

#include "protocols/upload/interim_response.h"
#include "tests/fuzz/fuzz_support.h"
#include "transfer/engine/origin.h"

using namespace xfer::protocols;
using xfer::engine::origin_of;

namespace {

bool same(const HttpUrl& a, const HttpUrl& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.path == b.path;
}

void check_url(const HttpUrl& u) {
  FUZZ_CHECK(u.scheme == "http" || u.scheme == "https");
  FUZZ_CHECK(!u.host.empty());
  for (const char c : u.host) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  FUZZ_CHECK(u.port != 0);
  FUZZ_CHECK(!u.path.empty() && u.path.front() == '/');
  FUZZ_CHECK(u.path.find('#') == std::string::npos);
  FUZZ_CHECK(u.origin() == u.scheme + "://" + u.host + ":" + std::to_string(u.port));
  const auto again = parse_http_url(u.to_string());
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(same(*again, u));
}

// No "." or ".." segment in the path (the query does not count).
bool has_dot_segments(std::string_view path) {
  path = path.substr(0, path.find('?'));
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

// The port as written in an absolute URL's authority ("" when none).
std::string_view port_text(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return {};
  std::string_view authority = url.substr(sep + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  const auto close = authority.rfind(']');
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || (close != std::string_view::npos && colon < close)) return {};
  return authority.substr(colon + 1);
}

void check_origin_of(std::string_view text) {
  const std::string o = origin_of(text);
  if (o.empty()) return;
  FUZZ_CHECK(o.starts_with("http://") || o.starts_with("https://"));
  FUZZ_CHECK(origin_of(o) == o);
  if (const auto u = parse_http_url(text)) {
    // Known and reported, not fixed here (transfer/engine/origin.cpp is not this target's to
    // change; docs/fuzzing.md): origin_of keeps a port's leading zeros, so "http://h:080" and
    // "http://h:80" count as two origins for limits and breakers. Any other disagreement aborts.
    const auto port = port_text(text);
    if (port.size() > 1 && port.front() == '0') return;
    FUZZ_CHECK(o == u->origin());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 8192) return 0;
  const auto lines = xfer_fuzz::lines(xfer_fuzz::as_text(data, size));
  for (const auto line : lines) {
    if (const auto u = parse_http_url(line)) check_url(*u);
    check_origin_of(line);
  }

  static const HttpUrl kDefaultBase = *parse_http_url("https://up.example:8443/a/b/c?q=1");
  const HttpUrl base = parse_http_url(lines[0]).value_or(kDefaultBase);
  const std::string_view reference = lines.size() > 1 ? lines[1] : lines[0];
  const auto resolved = resolve_url(base, reference);
  if (!resolved) {
    FUZZ_CHECK(resolved.error().category() == xfer::ErrorCategory::Protocol);
    return 0;
  }
  check_url(*resolved);
  check_origin_of(resolved->to_string());
  // An absolute URL resolves to itself: exactly, once its path has no dot segments (RFC 3986
  // §5.2.2 removes them from an absolute reference, but keeps the base's path as it is for an
  // empty or fragment-only one, and parse_http_url does not normalise).
  const auto self = resolve_url(base, resolved->to_string());
  FUZZ_CHECK(self.has_value());
  FUZZ_CHECK(same_origin(*self, *resolved));
  if (!has_dot_segments(resolved->path)) {
    FUZZ_CHECK(same(*self, *resolved));
    const auto from_elsewhere = resolve_url(kDefaultBase, resolved->to_string());
    FUZZ_CHECK(from_elsewhere.has_value() && same(*from_elsewhere, *resolved));
  }

  // What kind of reference it was (after the trimming and fragment removal resolve_url does).
  std::string_view ref = reference;
  while (!ref.empty() && (ref.front() == ' ' || ref.front() == '\t')) ref.remove_prefix(1);
  while (!ref.empty() && (ref.back() == ' ' || ref.back() == '\t')) ref.remove_suffix(1);
  ref = ref.substr(0, ref.find('#'));
  const auto colon = ref.find(':');
  const auto first_delim = ref.find_first_of("/?#");
  const bool has_scheme = colon != std::string_view::npos && colon > 0 && colon < first_delim;
  if (!has_scheme && !ref.starts_with("//")) FUZZ_CHECK(same_origin(*resolved, base));
  const std::string_view ref_path = ref.substr(0, ref.find('?'));
  if (!ref_path.empty()) FUZZ_CHECK(!has_dot_segments(resolved->path));
  return 0;
}
