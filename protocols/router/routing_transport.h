// RoutingTransport: the transport in front of the transports. An exchange that asks for HTTP/3
// only goes to the QUIC transport; one that prefers HTTP/3 tries it and falls back to TCP
// (FallbackStream: within `fallback_after` when no QUIC handshake completes, at once when QUIC
// fails), and an origin whose HTTP/3 failed goes straight to TCP for a while; every other
// exchange goes to the TCP transport (HTTP/1.1 and HTTP/2 by ALPN or prior knowledge). Without a
// QUIC transport an HTTP/3-only request is refused with a clear error, a preferring one goes
// over TCP.
//
// An https origin with a live "h3" alternative service (remember_alternatives: from its Alt-Svc,
// or from the journal) is treated as preferring HTTP/3 even when the exchange did not ask: TCP
// stays the fallback. Only alternatives on the origin's own host are used (another host would
// need a connection to a name other than the one the certificate is checked for; RFC 7838
// allows it, this router does not take it yet), and not while the environment sends the
// origin through a proxy (https_proxy / all_proxy, as libcurl reads them). An origin whose
// HTTP/3 failed is reported to on_quic_broken's listener, which may keep it beyond this process
// and hand it back with remember_quic_broken.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>

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
  void remember_alternatives(const std::string& origin, std::vector<AlternativeService> services) override;
  void remember_quic_broken(const std::string& origin, std::chrono::milliseconds how_long) override;
  void on_quic_broken(QuicBrokenListener listener) override;

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<Transport> tcp_;
  std::shared_ptr<Transport> quic_;  // may be null
  std::chrono::milliseconds fallback_after_;
  std::shared_ptr<BrokenQuicOrigins> broken_ = std::make_shared<BrokenQuicOrigins>();
  std::map<std::string, AlternativeService> h3_at_;  // origin → its usable HTTP/3 alternative

  // The UDP port of the origin's live HTTP/3 alternative, if it has one.
  std::optional<std::uint16_t> h3_port(const std::string& origin);
};

}  // namespace xfer::protocols
