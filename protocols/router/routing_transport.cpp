#include "protocols/router/routing_transport.h"

namespace xfer::protocols {

RoutingTransport::RoutingTransport(std::shared_ptr<Transport> tcp, std::shared_ptr<Transport> quic)
    : tcp_(std::move(tcp)), quic_(std::move(quic)) {}

Result<std::unique_ptr<HttpStream>> RoutingTransport::start(const HttpRequest& request, ExchangeSink& sink) {
  if (request.version != HttpVersion::Http3) return tcp_->start(request, sink);
  if (!quic_) return fail(ErrorCategory::InvalidArgument, "HTTP/3 is not available in this transport");
  return quic_->start(request, sink);
}

TransportCapabilities RoutingTransport::capabilities() const { return tcp_->capabilities(); }

}  // namespace xfer::protocols
