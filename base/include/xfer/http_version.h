// The HTTP version a transfer asks for (a spec, the journal) and a request is sent with (a
// transport). Any lets the transport choose: ALPN over TLS, the Alt-Svc cache later.
#pragma once

#include <cstdint>
#include <string_view>

namespace xfer {

// Journaled as its value: never renumber.
enum class HttpVersion : std::uint8_t { Any = 0, Http1_1 = 1, Http2 = 2, Http3 = 3 };

std::string_view to_string(HttpVersion version);

}  // namespace xfer
