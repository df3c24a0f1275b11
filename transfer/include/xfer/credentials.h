// Credentials: the secrets of a transfer (a URL's "user:password", Authorization, Cookie and
// other secret-looking header fields). The engine never writes them to the journal: it keeps
// them in memory for the process that enqueued the transfer and, after a restart, asks the app
// for them again through EngineConfig::credentials. A transfer whose secrets nobody supplies
// pauses with an error naming them; it is never sent without them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xfer {

// The name under which a URL's userinfo ("user:password@") is withheld and asked for.
inline constexpr std::string_view kUrlUserinfo = "url-userinfo";

struct Credentials {
  std::string url_userinfo;  // as it appeared in the URL (percent-encoded), empty for none
  std::vector<std::pair<std::string, std::string>> headers;
};

struct CredentialRequest {
  std::uint64_t transfer_id = 0;
  std::string url;  // without userinfo
  // What was withheld: kUrlUserinfo and/or header names, as given at enqueue.
  std::vector<std::string> names;
};

// Header fields treated as secrets: Authorization, Proxy-Authorization, Cookie, and any name
// containing "token", "secret", "password", "passwd", "auth", "session", "api-key", "apikey"
// or ending in "-key" (case-insensitive), such as X-Api-Key or Private-Token.
bool is_secret_header(std::string_view name);

}  // namespace xfer
