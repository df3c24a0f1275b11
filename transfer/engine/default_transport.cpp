#include "transfer/engine/default_transport.h"

#include <algorithm>
#include <memory>

#include "protocols/curl/curl_transport.h"
#include "protocols/redirect/redirecting_transport.h"
#include "transfer/engine/engine_parts_access.h"

namespace xfer::engine {

TransportFactory default_transport_factory() {
  return [](boost::asio::io_context& io,
            const EngineConfig& config) -> Result<std::unique_ptr<protocols::Transport>> {
    TransportSettings c = config.transport;
    c.max_connections_per_origin =
        std::max(c.max_connections_per_origin, config.max_active_per_origin);
    auto transport = protocols::curl::CurlTransport::create(io, c);
    if (!transport) return std::unexpected(transport.error());
    // libcurl follows no redirects; this decorator does, deciding per hop which headers go.
    protocols::RedirectConfig redirects;
    redirects.max_redirects = config.max_redirects;
    return std::unique_ptr<protocols::Transport>(std::make_unique<protocols::RedirectingTransport>(
        io, std::shared_ptr<protocols::Transport>(std::move(*transport)), redirects));
  };
}

}  // namespace xfer::engine

namespace xfer {

TransportChoice TransportChoice::libcurl() {
  return detail::PartsAccess::transport(engine::default_transport_factory());
}

}  // namespace xfer
