// H3Transport: the HTTP/3 Transport, on ngtcp2 + nghttp3 with GnuTLS (Debian's libcurl has no
// HTTP/3). One QUIC connection per origin carries every exchange to it as streams; a connection
// that failed or went idle is replaced by the next exchange. Only https URLs (HTTP/3 has no
// cleartext form). Redirects are not followed (RedirectingTransport does that above).
//
// Not built yet: request bodies (uploads over HTTP/3), GSO/recvmmsg batching, Alt-Svc.
//
// Threading: the io_context's thread only. Streams may outlive the transport.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include <xfer/transport_settings.h>

#include "protocols/transport.h"

namespace xfer::protocols::h3 {

class H3Connection;
class QuicTlsContext;

class H3Transport final : public Transport {
 public:
  static Result<std::unique_ptr<H3Transport>> create(boost::asio::io_context& io,
                                                     TransportSettings settings = {});
  ~H3Transport() override;

  Result<std::unique_ptr<HttpStream>> start(const HttpRequest& request, ExchangeSink& sink) override;
  TransportCapabilities capabilities() const override;

 private:
  H3Transport(boost::asio::io_context& io, TransportSettings settings);
  // With the system's trusted certificates: built by the first exchange, not with the
  // transport (loading them into GnuTLS took 14 ms on the loop thread, paid at every engine
  // start even when nothing goes over HTTP/3). A failure is kept and given to every exchange.
  Result<std::shared_ptr<const QuicTlsContext>> tls();

  boost::asio::io_context& io_;
  TransportSettings settings_;
  std::optional<Result<std::shared_ptr<const QuicTlsContext>>> tls_;
  std::map<std::string, std::shared_ptr<H3Connection>> connections_;  // by origin and UDP port
};

}  // namespace xfer::protocols::h3
