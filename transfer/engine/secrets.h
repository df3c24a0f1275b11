// Splitting a transfer's secrets from what may be journaled (see <xfer/credentials.h>), and
// putting them back when a request is built. Pure string handling.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <xfer/credentials.h>

namespace xfer::engine {

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

struct SplitTransfer {
  std::string url;           // without userinfo
  HeaderPairs headers;       // what may be journaled
  Credentials secrets;       // what may not
  std::vector<std::string> withheld;  // names of the secrets (kUrlUserinfo, header names)
};

SplitTransfer split_secrets(std::string_view url, const HeaderPairs& headers);

// `url` with "userinfo@" put back into its authority (unchanged when userinfo is empty).
std::string with_userinfo(std::string_view url, std::string_view userinfo);

// The secrets `names` asks for, taken from `supplied`; nullopt (with the missing names in
// `missing`) unless every one is there.
std::optional<Credentials> pick_credentials(const std::vector<std::string>& names,
                                            const Credentials& supplied,
                                            std::vector<std::string>& missing);

}  // namespace xfer::engine
