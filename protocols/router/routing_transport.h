// RoutingTransport: the transport in front of the transports. An exchange that asks for HTTP/3
// goes to the QUIC transport; every other one to the TCP transport (HTTP/1.1 and HTTP/2 by
// ALPN or prior knowledge). Without a QUIC transport an HTTP/3 request is refused with a clear
// error instead of silently going over TCP.
//
// Not built yet (issue 10): the choice per origin from what is known about it (Alt-Svc in the
// journal's capability cache, an origin whose HTTP/3 is broken), racing HTTP/3 against TCP.
#pragma once

#include <memory>

#include "protocols/transport.h"

namespace xfer::protocols {

class RoutingTransport final : public Transport {
 public:
  RoutingTransport(std::shared_ptr<Transport> tcp, std::shared_ptr<Transport> quic);

  Result<std::unique_ptr<HttpStream>> start(const HttpRequest& request, ExchangeSink& sink) override;
  TransportCapabilities capabilities() const override;

 private:
  std::shared_ptr<Transport> tcp_;
  std::shared_ptr<Transport> quic_;  // may be null
};

}  // namespace xfer::protocols
