// libcurl's multi interface (HTTP/1.1, HTTP/2, h2c) configured from EngineConfig, behind the
// redirect decorator: what TransportChoice::libcurl() builds, and the default. The only place in
// transfer/ that names a concrete transport; everything else sees protocols::Transport.
#pragma once

#include "transfer/engine/engine_core.h"

namespace xfer::engine {

TransportFactory default_transport_factory();

}  // namespace xfer::engine
