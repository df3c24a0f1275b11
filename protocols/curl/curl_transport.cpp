#include "protocols/curl/curl_transport.h"

#include <utility>

#include "protocols/curl/curl_multi_asio.h"
#include "protocols/curl/curl_stream.h"

namespace xfer::protocols::curl {

Result<std::unique_ptr<CurlTransport>> CurlTransport::create(boost::asio::io_context& io,
                                                             TransportSettings config) {
  Result<CurlFeatures> features = ensure_curl_global();
  if (!features) return std::unexpected(features.error());
  if (config.max_connections_per_origin == 0 || config.max_connections_total == 0 ||
      config.max_streams_per_connection == 0) {
    return fail(ErrorCategory::InvalidArgument, "connection and stream limits must be positive");
  }
  CurlMultiLimits limits;
  limits.max_connections_per_host = static_cast<long>(config.max_connections_per_origin);
  limits.max_connections_total = static_cast<long>(config.max_connections_total);
  limits.max_streams_per_connection = static_cast<long>(config.max_streams_per_connection);
  Result<std::shared_ptr<CurlMultiAsio>> multi = CurlMultiAsio::create(io, limits);
  if (!multi) return std::unexpected(multi.error());
  return std::unique_ptr<CurlTransport>(
      new CurlTransport(std::move(config), std::move(*features), std::move(*multi)));
}

CurlTransport::CurlTransport(TransportSettings config, CurlFeatures features,
                             std::shared_ptr<CurlMultiAsio> multi)
    : config_(std::move(config)), features_(std::move(features)), multi_(std::move(multi)) {}

CurlTransport::~CurlTransport() = default;

Result<std::unique_ptr<HttpStream>> CurlTransport::start(const HttpRequest& request,
                                                         ExchangeSink& sink) {
  Result<std::unique_ptr<CurlStream>> stream = CurlStream::start(multi_, config_, request, sink);
  if (!stream) return std::unexpected(stream.error());
  return std::unique_ptr<HttpStream>(std::move(*stream));
}

TransportCapabilities CurlTransport::capabilities() const {
  TransportCapabilities caps;
  caps.multiplexing = features_.http2;
  caps.max_streams_per_connection = config_.max_streams_per_connection;
  return caps;
}

std::size_t CurlTransport::connections_opened() const { return multi_->connections_opened(); }

}  // namespace xfer::protocols::curl

namespace xfer::protocols::curl {

CurlTransport::Stats CurlTransport::stats() const {
  return Stats{multi_->connections_opened(), multi_->watched_sockets(), multi_->orphans()};
}

}  // namespace xfer::protocols::curl
