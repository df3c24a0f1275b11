#include "protocols/h3/h3_transport.h"

#include <fmt/format.h>

#include "protocols/h3/h3_connection.h"
#include "protocols/h3/h3_stream.h"
#include "protocols/h3/quic_tls.h"
#include "protocols/http/url.h"

namespace xfer::protocols::h3 {

Result<std::unique_ptr<H3Transport>> H3Transport::create(boost::asio::io_context& io,
                                                         TransportSettings settings) {
  std::unique_ptr<H3Transport> transport(new H3Transport(io, std::move(settings)));
  // A CA file the user named is read now, so a wrong one is refused before any byte moves
  // (one file of the user's is quick; the system's store is what is slow).
  if (!transport->settings_.ca_file.empty())
    if (auto tls = transport->tls(); !tls) return std::unexpected(tls.error());
  return transport;
}

H3Transport::H3Transport(boost::asio::io_context& io, TransportSettings settings)
    : io_(io), settings_(std::move(settings)) {}

Result<std::shared_ptr<const QuicTlsContext>> H3Transport::tls() {
  if (!tls_) {
    auto created = QuicTlsContext::create(settings_);
    if (created) tls_.emplace(std::shared_ptr<const QuicTlsContext>(std::move(*created)));
    else tls_.emplace(std::unexpected(created.error()));
  }
  return *tls_;
}

H3Transport::~H3Transport() {
  // Nothing may keep the loop busy after the transport: idle connections say goodbye now, the
  // others when their last stream is gone.
  for (auto& [origin, connection] : connections_) connection->orphan();
}

Result<std::unique_ptr<HttpStream>> H3Transport::start(const HttpRequest& request, ExchangeSink& sink) {
  auto url = Url::parse_http(request.url);
  if (!url) return std::unexpected(url.error());
  if (url->scheme != "https")
    return fail(ErrorCategory::InvalidArgument,
                fmt::format("HTTP/3 needs an https URL, not {:.200}", request.url));
  // An alternative service may serve the origin on another UDP port: one connection per both.
  const std::uint16_t port = request.quic_port != 0 ? request.quic_port : url->effective_port();
  const std::string key = url->origin() + "@" + std::to_string(port);
  auto& slot = connections_[key];
  if (!slot || !slot->usable()) {
    auto tls = this->tls();
    if (!tls) {
      connections_.erase(key);
      return std::unexpected(tls.error());
    }
    auto connection = H3Connection::open(io_, settings_, *tls, url->host.value_or(""), port,
                                         std::chrono::milliseconds(request.connect_timeout_ms));
    if (!connection) {
      connections_.erase(key);
      return std::unexpected(connection.error());
    }
    slot = std::move(*connection);
  }
  auto stream = std::make_unique<H3Stream>(slot, request, sink, settings_.max_header_bytes);
  slot->submit(*stream);
  return std::unique_ptr<HttpStream>(std::move(stream));
}

TransportCapabilities H3Transport::capabilities() const {
  return TransportCapabilities{true, settings_.max_streams_per_connection};
}

}  // namespace xfer::protocols::h3
