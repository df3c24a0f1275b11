// The transports the library ships, composed: libcurl's multi interface (HTTP/1.1, HTTP/2, h2c)
// and the HTTP/3 transport (ngtcp2 + nghttp3) behind the router (HTTP/3 only for exchanges that
// ask for it), behind the redirect decorator, configured from EngineConfig. What
// TransportChoice::libcurl_and_http3() builds (the default) and, without HTTP/3,
// TransportChoice::libcurl(). The only place in transfer/ that names a concrete transport;
// everything else sees protocols::Transport.
#pragma once

#include "transfer/engine/engine_core.h"

namespace xfer::engine {

TransportFactory default_transport_factory();
TransportFactory transport_factory_tcp_only();

}  // namespace xfer::engine
