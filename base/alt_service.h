// An alternative service of an origin (RFC 7838): `alpn` served at host:port until expires_at.
// Learned from Alt-Svc by the engine, kept per origin by the journal (so the next run goes
// straight to it), and used by the router to reach the origin over HTTP/3.
#pragma once

#include <cstdint>
#include <string>

namespace xfer {

struct AlternativeService {
  std::string alpn;  // "h3"
  std::string host;  // empty = the origin's own host
  std::uint16_t port = 0;
  std::int64_t expires_at = 0;  // Unix milliseconds

  bool operator==(const AlternativeService&) const = default;
};

}  // namespace xfer
