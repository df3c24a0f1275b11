#include "transfer/engine/default_transport.h"

#include <algorithm>
#include <memory>

#include "protocols/curl/curl_transport.h"
#include "protocols/redirect/redirecting_transport.h"

namespace xfer::engine {

TransportFactory default_transport_factory() {
  return [](boost::asio::io_context& io,
            const EngineConfig& config) -> Result<std::unique_ptr<protocols::Transport>> {
    protocols::curl::CurlTransportConfig c;
    c.insecure = config.insecure;
    c.ca_file = config.ca_file;
    c.max_connections_total = config.max_connections;
    // Segmented HTTP/1.1 downloads need a connection per segment (up to 8 by default).
    c.max_connections_per_origin = std::max<std::uint32_t>(config.max_active_per_origin, 8);
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
