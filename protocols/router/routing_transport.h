// RoutingTransport: the transport in front of the transports. An exchange that asks for HTTP/3
// only goes to the QUIC transport; one that prefers HTTP/3 tries it and falls back to TCP
// (FallbackStream: within `fallback_after` when no QUIC handshake completes, at once when QUIC
// fails), and an origin whose HTTP/3 failed goes straight to TCP for a while; every other
// exchange goes to the TCP transport (HTTP/1.1 and HTTP/2 by ALPN or prior knowledge). Without a
// QUIC transport an HTTP/3-only request is refused with a clear error, a preferring one goes
// over TCP.
//
// Not built yet (issue 10): Alt-Svc (the journal's capability cache deciding per origin), the
// broken-origin memory across runs.
#pragma once

#include <chrono>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "protocols/router/fallback_stream.h"
#include "protocols/transport.h"

namespace xfer::protocols {

class RoutingTransport final : public Transport {
 public:
  RoutingTransport(boost::asio::io_context& io, std::shared_ptr<Transport> tcp,
                   std::shared_ptr<Transport> quic,
                   std::chrono::milliseconds fallback_after = std::chrono::milliseconds(1000));

  Result<std::unique_ptr<HttpStream>> start(const HttpRequest& request, ExchangeSink& sink) override;
  TransportCapabilities capabilities() const override;

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<Transport> tcp_;
  std::shared_ptr<Transport> quic_;  // may be null
  std::chrono::milliseconds fallback_after_;
  std::shared_ptr<BrokenQuicOrigins> broken_ = std::make_shared<BrokenQuicOrigins>();
};

}  // namespace xfer::protocols
