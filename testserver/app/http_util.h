// Small HTTP helpers for the test server's handlers: dates, base64, lower-casing, trimming and
// one-shot responses. Independent of the client code on purpose (the test server shares nothing).
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "testserver/exchange.h"

namespace xts {

std::string http_date(std::time_t t);
std::optional<std::time_t> parse_http_date(std::string_view s);
std::string base64_encode(std::span<const std::uint8_t> data);
std::string to_lower(std::string_view s);
std::string_view trim(std::string_view s);
// Strict unsigned decimal (no sign, no spaces, no overflow).
std::optional<std::uint64_t> parse_u64(std::string_view s);
// JSON string content; bytes that are not well-formed UTF-8 become U+FFFD, so the result is
// always valid JSON whatever the request carried.
std::string json_escape(std::string_view s);
// A decoded path as a URL path: every byte outside RFC 3986 pchar (and '/') is
// percent-encoded, '%' included, so the URL decodes back to exactly these bytes.
std::string url_encode_path(std::string_view path);

// Sends a complete response with a small body (or none). For HEAD the body is omitted but
// Content-Length still announces its size.
void respond(const std::shared_ptr<Exchange>& ex, int status, Headers headers,
             std::string body = {}, std::string_view content_type = "text/plain");

}  // namespace xts
