#include "protocols/redirect/redirect_policy.h"

#include <algorithm>
#include <array>
#include "base/ascii.h"
#include <string>

#include <fmt/format.h>

namespace xfer::protocols {
namespace {

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& names, std::string_view name) {
  const std::string key = ascii_lower(name);
  return std::find(names.begin(), names.end(), key) != names.end();
}

// Fields about the request content: meaningless once a redirect turns the request into a GET.
constexpr std::array<std::string_view, 11> kBodyFields = {
    "content-type",      "content-encoding", "content-language", "content-location",
    "content-length",    "content-digest",   "repr-digest",      "upload-complete",
    "upload-incomplete", "upload-offset",    "upload-length"};

// Fields that say what is asked for, never who asks: no credential travels in them.
constexpr std::array<std::string_view, 25> kOriginFreeFields = {"range",
                                                                "if-range",
                                                                "if-match",
                                                                "if-none-match",
                                                                "if-modified-since",
                                                                "if-unmodified-since",
                                                                "accept",
                                                                "accept-encoding",
                                                                "accept-language",
                                                                "cache-control",
                                                                "user-agent",
                                                                "want-repr-digest",
                                                                "want-content-digest",
                                                                "repr-digest",
                                                                "content-digest",
                                                                "content-type",
                                                                "content-encoding",
                                                                "content-language",
                                                                "content-length",
                                                                "upload-complete",
                                                                "upload-incomplete",
                                                                "upload-offset",
                                                                "upload-length",
                                                                "upload-draft-interop-version",
                                                                "expect"};

Error refused(std::string message) {
  return Error(ErrorCategory::Protocol, std::move(message), /*retryable=*/false);
}

}  // namespace

bool is_followed_redirect_status(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool is_origin_free_field(std::string_view name) { return listed(kOriginFreeFields, name); }

HttpRequest first_hop_request(const HttpRequest& request, const Url& url) {
  HttpRequest first = request;
  first.url = url.without_fragment();
  return first;
}

RedirectDecision decide_redirect(const RedirectHop& hop) {
  RedirectDecision decision;
  const int status = hop.head.status;
  const std::string* location = hop.head.find("location");
  if (!is_followed_redirect_status(status) || location == nullptr || location->empty()) {
    return decision;
  }

  const std::string& method = hop.current.method;
  const bool to_get =
      (status == 303 && method != "HEAD") || ((status == 301 || status == 302) && method == "POST");
  if (!to_get && hop.current.body_length && !hop.body_replayable) return decision;

  Result<Url> target = hop.current_url.resolve(*location);
  if (!target) {
    decision.refuse = refused(
        fmt::format("redirect {} to an invalid Location: {}", status, target.error().message()));
    return decision;
  }
  if (!target->is_http()) {
    decision.refuse = refused(
        fmt::format("redirect {} to a non-http(s) URL refused: {:.200}", status, *location));
    return decision;
  }
  if (hop.redirects_so_far >= hop.max_redirects) {
    decision.refuse = refused(fmt::format("too many redirects (more than {})", hop.max_redirects));
    return decision;
  }

  Url& url = *target;
  url.userinfo.reset();
  const bool same_origin = url.origin() == hop.original_url.origin();
  const bool downgrade = hop.original_url.scheme == "https" && url.scheme == "http";
  const bool caller_fields =
      same_origin || (hop.original.forward_headers_across_origins && !downgrade);
  if (caller_fields) url.userinfo = hop.original_url.userinfo;

  HttpRequest next = hop.current;
  next.url = url.without_fragment();
  if (to_get) {
    next.method = "GET";
    next.body_length.reset();
  }
  // From the original each time, so fields held back from one origin return at the next hop
  // that is back at the original origin.
  const bool body_gone = hop.original.body_length && !next.body_length;
  next.headers.clear();
  for (const auto& field : hop.original.headers) {
    if (body_gone && listed(kBodyFields, field.first)) continue;
    if (caller_fields || is_origin_free_field(field.first)) next.headers.push_back(field);
  }
  decision.follow = std::move(next);
  decision.follow_url = std::move(url);
  return decision;
}

}  // namespace xfer::protocols
