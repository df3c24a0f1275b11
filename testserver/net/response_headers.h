// Helpers shared by the HTTP/1.1 and HTTP/2 response writers: which handler-supplied headers
// the transport owns (framing and connection-specific fields are set by the transport, never
// copied from the handler), lower-casing names, and reason phrases for status lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "testserver/exchange.h"

namespace xts::net {

std::string to_lower(std::string_view text);

// connection, keep-alive, proxy-connection, transfer-encoding, upgrade, te, content-length.
bool is_transport_owned_header(std::string_view name);

// The Content-Length a handler put in its header list, when it passed none as an argument.
std::optional<std::uint64_t> content_length_from(const Headers& headers);

std::string_view reason_phrase(int status);

// The Alt-Svc value announcing HTTP/3 on `port` of the same host, valid for a day.
std::string alt_svc_h3(unsigned short port);

// Parses a decimal uint64 with nothing else around it.
std::optional<std::uint64_t> parse_uint64(std::string_view text);

}  // namespace xts::net
