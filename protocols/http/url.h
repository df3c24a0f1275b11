// URLs (RFC 3986) for the decisions that depend on where a request goes: the origin that
// headers and credentials are bound to, and the target of a redirect's Location. Pure.
//
// Strict on purpose: a URL this parser reads differently from libcurl (or any later HTTP/3
// stack) could make us send credentials to a host we did not mean, so anything ambiguous is
// refused rather than guessed at:
// - control characters, spaces, backslashes and malformed percent-escapes anywhere → error;
// - a host is an IPv6 literal (canonicalised, no zone id, no IPvFuture) or a name made of
//   unreserved characters (no percent-escapes, no sub-delims), lower-cased; more than one '@'
//   in the authority → error; a port is decimal 1..65535 (an empty port means the default);
// - http and https URLs need a host; their empty path is "/" (RFC 9110 §4.2.3).
// Two things that are plainly unambiguous are repaired instead of refused, as browsers and
// RFC 3987 §3.1 do: bytes >= 0x80 and the ASCII characters " < > [ ] ^ ` { | } in the path,
// query or fragment are percent-encoded (servers do send raw UTF-8 in Location).
// Two spellings of one host ("127.1", "127.0.0.1") are different origins: the safe direction,
// as an origin only ever widens where headers go when two URLs compare equal.
//
// This is the one URL parser of the client: origins of the scheduler, redirects, 104 Locations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <xfer/error.h>

namespace xfer::protocols {

struct Url {
  std::string scheme;                   // lower case
  std::optional<std::string> userinfo;  // as written (percent-encoded), without the '@'
  std::optional<std::string> host;      // present iff the URL has an authority
  std::optional<std::uint16_t> port;    // nullopt when absent or empty
  std::string path;
  std::optional<std::string> query;     // without the '?'
  std::optional<std::string> fragment;  // without the '#'

  bool is_http() const { return scheme == "http" || scheme == "https"; }
  // The port, or the scheme's default (80 / 443; 0 for other schemes).
  std::uint16_t effective_port() const;
  // "https://example.com:443": scheme, host and port with the default made explicit; empty
  // for URLs that are not http(s). Equal strings mean the same origin (RFC 6454).
  std::string origin() const;
  // The URL written out (RFC 3986 §5.3); without_fragment is what goes on the wire.
  std::string to_string() const;
  std::string without_fragment() const;

  // An absolute URI of any scheme. Errors are InvalidArgument and say what is wrong.
  static Result<Url> parse(std::string_view text);
  // An absolute http or https URL.
  static Result<Url> parse_http(std::string_view text);
  // The target of `reference` (absolute or relative, e.g. a Location value) against this URL
  // (RFC 3986 §5.2, strict: a reference naming the base's scheme is still absolute). Any
  // scheme may come out; callers decide which they follow.
  Result<Url> resolve(std::string_view reference) const;

  // RFC 3986 §5.2.4: "/a/b/../c/./d" → "/a/c/d".
  static std::string remove_dot_segments(std::string_view path);
};

}  // namespace xfer::protocols
