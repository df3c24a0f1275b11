#include "transfer/engine/secrets.h"

#include <algorithm>

#include "base/ascii.h"

namespace xfer {

bool is_secret_header(std::string_view name) {
  const std::string n = ascii_lower(name);
  if (n == "authorization" || n == "proxy-authorization" || n == "cookie") return true;
  for (const char* word : {"token", "secret", "password", "passwd", "auth", "session", "api-key",
                           "apikey"})
    if (n.find(word) != std::string::npos) return true;
  return n.size() > 4 && n.ends_with("-key");
}

namespace engine {
namespace {
// [begin, end) of the authority of an absolute URL, or npos when there is none.
std::pair<std::size_t, std::size_t> authority_of(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return {std::string_view::npos, std::string_view::npos};
  const auto begin = sep + 3;
  auto end = url.find_first_of("/?#", begin);
  if (end == std::string_view::npos) end = url.size();
  return {begin, end};
}
}  // namespace

SplitTransfer split_secrets(std::string_view url, const HeaderPairs& headers) {
  SplitTransfer out;
  out.url = std::string(url);
  const auto [begin, end] = authority_of(url);
  if (begin != std::string_view::npos) {
    const auto at = url.substr(begin, end - begin).rfind('@');
    if (at != std::string_view::npos) {
      out.secrets.url_userinfo = std::string(url.substr(begin, at));
      out.url = std::string(url.substr(0, begin)) + std::string(url.substr(begin + at + 1));
      out.withheld.emplace_back(kUrlUserinfo);
    }
  }
  for (const auto& h : headers) {
    if (is_secret_header(h.first)) {
      out.secrets.headers.push_back(h);
      if (std::none_of(out.withheld.begin(), out.withheld.end(),
                       [&](const std::string& n) { return ascii_iequals(n, h.first); }))
        out.withheld.push_back(h.first);
    } else {
      out.headers.push_back(h);
    }
  }
  return out;
}

std::string with_userinfo(std::string_view url, std::string_view userinfo) {
  if (userinfo.empty()) return std::string(url);
  const auto [begin, end] = authority_of(url);
  if (begin == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, begin)) + std::string(userinfo) + "@" +
         std::string(url.substr(begin));
}

std::optional<Credentials> pick_credentials(const std::vector<std::string>& names,
                                            const Credentials& supplied,
                                            std::vector<std::string>& missing) {
  Credentials picked;
  missing.clear();
  for (const auto& name : names) {
    if (name == kUrlUserinfo) {
      if (supplied.url_userinfo.empty()) missing.push_back(name);
      picked.url_userinfo = supplied.url_userinfo;
      continue;
    }
    bool found = false;
    for (const auto& h : supplied.headers) {
      if (!ascii_iequals(h.first, name)) continue;
      picked.headers.push_back(h);
      found = true;
    }
    if (!found) missing.push_back(name);
  }
  if (!missing.empty()) return std::nullopt;
  return picked;
}

}  // namespace engine
}  // namespace xfer
