#include "protocols/router/routing_transport.h"

#include "protocols/http/url.h"

namespace xfer::protocols {

RoutingTransport::RoutingTransport(boost::asio::io_context& io, std::shared_ptr<Transport> tcp,
                                   std::shared_ptr<Transport> quic, std::chrono::milliseconds fallback_after)
    : io_(io), tcp_(std::move(tcp)), quic_(std::move(quic)), fallback_after_(fallback_after) {}

Result<std::unique_ptr<HttpStream>> RoutingTransport::start(const HttpRequest& request, ExchangeSink& sink) {
  switch (request.version) {
    case HttpVersion::Http3:
      if (!quic_) return fail(ErrorCategory::InvalidArgument, "HTTP/3 is not available in this transport");
      return quic_->start(request, sink);
    case HttpVersion::Http3Preferred: {
      HttpRequest over_tcp = request;
      over_tcp.version = HttpVersion::Any;
      auto url = Url::parse_http(request.url);
      const bool https = url && url->scheme == "https";
      // HTTP/3 has no cleartext form, and request bodies do not go over it yet.
      if (!quic_ || !https || request.body_length) return tcp_->start(over_tcp, sink);
      const std::string origin = url->origin();
      if (broken_->broken(origin)) return tcp_->start(over_tcp, sink);
      auto stream = FallbackStream::start(io_, quic_, tcp_, broken_, origin, request, sink, fallback_after_);
      if (!stream) return std::unexpected(stream.error());
      return std::unique_ptr<HttpStream>(std::move(*stream));
    }
    default:
      return tcp_->start(request, sink);
  }
}

TransportCapabilities RoutingTransport::capabilities() const { return tcp_->capabilities(); }

}  // namespace xfer::protocols
