#include "protocols/router/routing_transport.h"

#include <chrono>

#include "base/ascii.h"
#include "protocols/http/url.h"

namespace xfer::protocols {
namespace {

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RoutingTransport::RoutingTransport(boost::asio::io_context& io, std::shared_ptr<Transport> tcp,
                                   std::shared_ptr<Transport> quic, std::chrono::milliseconds fallback_after)
    : io_(io), tcp_(std::move(tcp)), quic_(std::move(quic)), fallback_after_(fallback_after) {}

void RoutingTransport::remember_alternatives(const std::string& origin, std::vector<AlternativeService> services) {
  h3_at_.erase(origin);
  auto url = Url::parse_http(origin);
  if (!url || url->scheme != "https") return;
  const std::string own_host = ascii_lower(url->host.value_or(""));
  for (auto& s : services) {
    if (s.alpn != "h3" || s.port == 0) continue;
    if (!s.host.empty() && ascii_lower(s.host) != own_host) continue;
    h3_at_[origin] = std::move(s);
    return;
  }
}

std::optional<std::uint16_t> RoutingTransport::h3_port(const std::string& origin) {
  const auto it = h3_at_.find(origin);
  if (it == h3_at_.end()) return std::nullopt;
  if (it->second.expires_at <= unix_ms_now()) {
    h3_at_.erase(it);
    return std::nullopt;
  }
  return it->second.port;
}

Result<std::unique_ptr<HttpStream>> RoutingTransport::start(const HttpRequest& request, ExchangeSink& sink) {
  auto url = Url::parse_http(request.url);
  const bool https = url && url->scheme == "https";
  const std::string origin = url ? url->origin() : std::string();
  const auto alternative = https ? h3_port(origin) : std::nullopt;
  HttpRequest over_quic = request;
  if (alternative) over_quic.quic_port = *alternative;
  switch (request.version) {
    case HttpVersion::Http3:
      if (!quic_) return fail(ErrorCategory::InvalidArgument, "HTTP/3 is not available in this transport");
      return quic_->start(over_quic, sink);
    case HttpVersion::Http3Preferred:
    case HttpVersion::Any: {
      HttpRequest over_tcp = request;
      over_tcp.version = HttpVersion::Any;
      // HTTP/3 has no cleartext form; an unasked exchange goes there only when the origin said so.
      const bool try_quic = quic_ && https && (request.version == HttpVersion::Http3Preferred || alternative);
      if (!try_quic || broken_->broken(origin)) return tcp_->start(over_tcp, sink);
      auto stream = FallbackStream::start(io_, quic_, tcp_, broken_, origin, over_quic, sink, fallback_after_);
      if (!stream) return std::unexpected(stream.error());
      return std::unique_ptr<HttpStream>(std::move(*stream));
    }
    default:
      return tcp_->start(request, sink);
  }
}

TransportCapabilities RoutingTransport::capabilities() const { return tcp_->capabilities(); }

}  // namespace xfer::protocols
