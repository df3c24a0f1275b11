// Which redirect to follow and what the next request looks like. Pure: RedirectingTransport
// (redirecting_transport.h) applies it hop by hop. These are the rules, and why:
//
// - Followed statuses: 301, 302, 303, 307, 308 with a non-empty Location. Any other 3xx, or one
//   without Location, is the final response.
// - Method: 303 becomes GET (HEAD stays HEAD); 301/302 turn POST into GET; everything else keeps
//   its method. A kept body must be sent again: only when the sink can replay it, otherwise the
//   3xx is the final response and the caller decides.
// - Headers: the caller's headers (and the original URL's userinfo) go to a hop only when its
//   origin equals the original request's origin, judged hop by hop against the original, not
//   against the previous hop. `forward_headers_across_origins` widens that to every http(s)
//   origin, Authorization and Cookie included (as curl's --location-trusted does), but never
//   from an https original to a cleartext http hop. A few fields that describe the message
//   rather than the requester (Range, If-Range, Accept, digests, upload fields, ...) always
//   go along, so a resumed download through a CDN redirect is still a range request.
// - Refused (Protocol, not retryable): a Location that is not a valid URI reference, one that
//   leaves http/https, and more than `max_redirects` redirects. https → http is followed (as
//   curl and browsers do); the origin changes, so no caller header goes along.
// - A Location's own userinfo is dropped: we only send credentials the caller gave.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "protocols/http/url.h"
#include "protocols/transport.h"

namespace xfer::protocols {

bool is_followed_redirect_status(int status);

// A field that is sent to every hop whatever its origin (see above). Case-insensitive.
bool is_origin_free_field(std::string_view name);

struct RedirectHop {
  const HttpRequest& original;  // as the caller asked
  const Url& original_url;
  const HttpRequest& current;  // the request that got `head`
  const Url& current_url;
  const ResponseHeaders& head;
  std::uint32_t redirects_so_far = 0;
  std::uint32_t max_redirects = 0;
  bool body_replayable = false;
};

struct RedirectDecision {
  // `follow` (with `follow_url`, its parsed form) or `refuse`, or neither: then `head` is the
  // final response.
  std::optional<HttpRequest> follow;
  std::optional<Url> follow_url;
  std::optional<Error> refuse;
};

RedirectDecision decide_redirect(const RedirectHop& hop);

// The request the first hop sends: `request` with the canonical form of `url` (what the origin
// was judged on is what the inner transport connects to).
HttpRequest first_hop_request(const HttpRequest& request, const Url& url);

}  // namespace xfer::protocols
