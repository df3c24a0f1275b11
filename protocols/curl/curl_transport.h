// CurlTransport: the HTTP/1.1 + HTTP/2 Transport over libcurl's multi interface, driven by the
// engine's Boost.Asio io_context (no extra threads, no busy polling).
//
// Promises: HTTP/2 multiplexing (many exchanges to one origin share one connection; new
// exchanges wait for a connection being set up instead of opening another), connection reuse,
// per-origin and total connection caps, TLS verification on by default, a cap on response
// header bytes, no content decoding (no decompression bombs), proxies from libcurl's usual
// environment variables (http_proxy, https_proxy, no_proxy), only http and https. Redirects are
// not followed: a 3xx is delivered as the final response (wrap the transport in
// protocols::RedirectingTransport to follow them).
//
// Threading: construct, call and destroy on the io_context's thread; every ExchangeSink
// callback runs there. Streams may outlive the transport (they keep the multi handle alive).
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>

#include "protocols/curl/curl_global.h"
#include <xfer/transport_settings.h>
#include "protocols/transport.h"

namespace xfer::protocols::curl {

class CurlMultiAsio;

class CurlTransport final : public Transport {
 public:
  // Initialises libcurl (once per process), checks it supports TLS and HTTP/2, creates the
  // multi handle. Fails with Internal when libcurl is unusable.
  static Result<std::unique_ptr<CurlTransport>> create(boost::asio::io_context& io,
                                                       TransportSettings config = {});
  ~CurlTransport() override;

  // Starts an exchange; see protocols/transport.h. Fails with InvalidArgument for HTTP/3,
  // a URL scheme other than http/https, or an unsupported request shape.
  Result<std::unique_ptr<HttpStream>> start(const HttpRequest& request,
                                            ExchangeSink& sink) override;
  TransportCapabilities capabilities() const override;

  const CurlFeatures& features() const { return features_; }
  const TransportSettings& config() const { return config_; }
  // Connections opened so far by finished exchanges (libcurl's CURLINFO_NUM_CONNECTS summed).
  std::size_t connections_opened() const;

  // Live counters for tests and diagnostics.
  struct Stats {
    std::size_t connections_opened = 0;
    std::size_t watched_sockets = 0;   // sockets libcurl asked us to watch right now
    std::size_t cancelled_pending = 0; // destroyed streams libcurl has not wound down yet
  };
  Stats stats() const;

 private:
  CurlTransport(TransportSettings config, CurlFeatures features,
                std::shared_ptr<CurlMultiAsio> multi);

  TransportSettings config_;
  CurlFeatures features_;
  std::shared_ptr<CurlMultiAsio> multi_;
};

}  // namespace xfer::protocols::curl
