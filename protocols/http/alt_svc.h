// Alt-Svc (RFC 7838 section 3): the alternative services an origin advertises, e.g.
// `h3=":443"; ma=86400, h3-29=":443"`. Parsed strictly: an entry that does not parse is dropped
// (the others still count), and a value that is not a list of entries says nothing at all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xfer::protocols {

struct AltSvcEntry {
  std::string alpn;  // protocol id, percent-decoded ("h3")
  std::string host;  // empty: the origin's own host
  std::uint16_t port = 0;
  std::uint64_t max_age_seconds = 86400;  // RFC 7838's default: 24 hours
};

struct AltSvcField {
  bool clear = false;  // "clear": forget every alternative of this origin
  std::vector<AltSvcEntry> entries;
};

// nullopt when the value is not Alt-Svc syntax at all.
std::optional<AltSvcField> parse_alt_svc(std::string_view value);

}  // namespace xfer::protocols
