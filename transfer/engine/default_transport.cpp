#include "transfer/engine/default_transport.h"

#include <algorithm>
#include <memory>

#include "protocols/curl/curl_transport.h"
#include "protocols/h3/h3_transport.h"
#include "protocols/redirect/redirecting_transport.h"
#include "protocols/router/routing_transport.h"
#include "transfer/engine/engine_parts_access.h"

namespace xfer::engine {
namespace {

TransportFactory transport_factory(bool with_http3) {
  return [with_http3](boost::asio::io_context& io,
                      const EngineConfig& config) -> Result<std::unique_ptr<protocols::Transport>> {
    TransportSettings c = config.transport;
    c.max_connections_per_origin =
        std::max(c.max_connections_per_origin, config.max_active_per_origin);
    auto tcp = protocols::curl::CurlTransport::create(io, c);
    if (!tcp) return std::unexpected(tcp.error());
    std::shared_ptr<protocols::Transport> quic;
    if (with_http3) {
      auto h3 = protocols::h3::H3Transport::create(io, c);
      if (!h3) return std::unexpected(h3.error());
      quic = std::move(*h3);
    }
    auto routed = std::make_shared<protocols::RoutingTransport>(
        io, std::shared_ptr<protocols::Transport>(std::move(*tcp)), std::move(quic));
    // The transports follow no redirects; this decorator does, deciding per hop which headers go.
    protocols::RedirectConfig redirects;
    redirects.max_redirects = config.max_redirects;
    return std::unique_ptr<protocols::Transport>(
        std::make_unique<protocols::RedirectingTransport>(io, std::move(routed), redirects));
  };
}

}  // namespace

TransportFactory default_transport_factory() { return transport_factory(true); }
TransportFactory transport_factory_tcp_only() { return transport_factory(false); }

}  // namespace xfer::engine

namespace xfer {

TransportChoice TransportChoice::libcurl() {
  return detail::PartsAccess::transport(engine::transport_factory_tcp_only());
}

TransportChoice TransportChoice::libcurl_and_http3() {
  return detail::PartsAccess::transport(engine::default_transport_factory());
}

}  // namespace xfer
