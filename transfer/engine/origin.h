// Origin of a URL ("https://example.com:443"): the unit of per-origin concurrency limits,
// rate limits and circuit breakers. By the one strict URL parser (protocols/http/url.h): scheme
// and host are lower-cased and the default port is made explicit, so "https://A" and
// "https://a:443" are one origin, and so are "http://h:080" and "http://h:80".
#pragma once

#include <string>
#include <string_view>

namespace xfer::engine {

// The origin, or an empty string when `url` is not a valid absolute http(s) URL.
std::string origin_of(std::string_view url);

}  // namespace xfer::engine
