#include "protocols/redirect/redirecting_transport.h"

#include <utility>

#include "protocols/redirect/redirecting_stream.h"

namespace xfer::protocols {

RedirectingTransport::RedirectingTransport(boost::asio::io_context& io,
                                           std::shared_ptr<Transport> inner, RedirectConfig config)
    : io_(io), inner_(std::move(inner)), config_(config) {}

Result<std::unique_ptr<HttpStream>> RedirectingTransport::start(const HttpRequest& request,
                                                                ExchangeSink& sink) {
  Result<std::unique_ptr<RedirectingStream>> stream =
      RedirectingStream::start(io_, inner_, config_, request, sink);
  if (!stream) return std::unexpected(stream.error());
  return std::unique_ptr<HttpStream>(std::move(*stream));
}

}  // namespace xfer::protocols
