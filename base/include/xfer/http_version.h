// The HTTP version a transfer asks for (a spec, the journal) and a request is sent with (a
// transport). Any lets the transport choose: ALPN over TLS, the Alt-Svc cache later.
#pragma once

#include <cstdint>
#include <string_view>

namespace xfer {

// Journaled as its value: never renumber. Http3 is HTTP/3 only; Http3Preferred tries HTTP/3 and
// falls back to TCP (HTTP/2 or HTTP/1.1 by ALPN) when QUIC does not get through.
enum class HttpVersion : std::uint8_t { Any = 0, Http1_1 = 1, Http2 = 2, Http3 = 3, Http3Preferred = 4 };

std::string_view to_string(HttpVersion version);

}  // namespace xfer
