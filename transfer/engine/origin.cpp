#include "transfer/engine/origin.h"

#include "protocols/http/url.h"

namespace xfer::engine {

std::string origin_of(std::string_view url) {
  const auto parsed = protocols::Url::parse_http(url);
  return parsed ? parsed->origin() : std::string();
}

}  // namespace xfer::engine
