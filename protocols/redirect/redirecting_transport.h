// RedirectingTransport: follows HTTP redirects above any Transport, so HTTP/1.1, HTTP/2 and the
// HTTP/3 transport to come share one rule for where the caller's headers may go (design.md
// invariant 7). The inner transport is expected not to follow redirects itself.
//
// For each exchange it runs one inner exchange per hop. A final response that
// redirect_policy.h says to follow is intercepted: its body is discarded and, once that inner
// exchange has ended, the next one starts on the resolved URL. What the caller's sink hears:
// - on_interim of every hop, as it arrives (a 104's Location must be journaled before the
//   upload body ends, long before anyone knows whether the hop ends in a redirect);
// - on_response_head, on_body and on_complete of the final hop only, each in order, and
//   on_complete exactly once; a refused redirect (policy error) or a failure to start a hop
//   comes as on_complete(error) without a head.
// - A redirect hop is not waited on forever: one that sent a request body is abandoned as
//   soon as its head arrives (the body goes again, or not at all), and one whose discarded
//   body exceeds max_redirect_body_bytes is abandoned then. Its outcome does not matter: the
//   Location was already read.
// HttpStream calls go to the current hop's stream; a pause is carried over to the next hop.
// Destroying the stream cancels the exchange with no further callbacks; an inner stream is
// never destroyed from inside one of its own callbacks (that is posted to the loop).
//
// Threading: the io_context's thread only, like every Transport. Streams may outlive the
// transport (they share ownership of the inner transport).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "protocols/transport.h"

namespace xfer::protocols {

struct RedirectConfig {
  std::uint32_t max_redirects = 10;
  std::size_t max_redirect_body_bytes = 64 * 1024;
};

class RedirectingTransport final : public Transport {
 public:
  RedirectingTransport(boost::asio::io_context& io, std::shared_ptr<Transport> inner,
                       RedirectConfig config = {});

  // Fails with InvalidArgument when request.url is not an absolute http(s) URL (url.h), and
  // with whatever the inner transport refuses for the first hop.
  Result<std::unique_ptr<HttpStream>> start(const HttpRequest& request,
                                            ExchangeSink& sink) override;
  TransportCapabilities capabilities() const override { return inner_->capabilities(); }
  void remember_alternatives(const std::string& origin, std::vector<AlternativeService> services) override {
    inner_->remember_alternatives(origin, std::move(services));
  }
  void remember_quic_broken(const std::string& origin, std::chrono::milliseconds how_long) override {
    inner_->remember_quic_broken(origin, how_long);
  }
  void on_quic_broken(QuicBrokenListener listener) override { inner_->on_quic_broken(std::move(listener)); }

  Transport& inner() { return *inner_; }

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<Transport> inner_;
  RedirectConfig config_;
};

}  // namespace xfer::protocols
