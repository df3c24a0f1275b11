// TransportServer: the listeners of xfer-testserver (TLS and plain) and every connection they
// accepted, in front of one ExchangeHandler. main.cpp opens it from the ServerConfig, prints
// the bound ports, and stops it on SIGTERM. With --listen, HTTP/3 (QuicListener) listens on
// UDP at the TLS listener's port too (unless --no-http3), feeding the same handler, and the
// TCP responses over TLS announce it with Alt-Svc.
#pragma once

#include <expected>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "testserver/exchange.h"
#include "testserver/net/connection.h"
#include "testserver/net/limits.h"
#include "testserver/net/listener.h"
#include "testserver/net/memory_trimmer.h"
#include "testserver/net/quic_listener.h"
#include "testserver/net/response_budget.h"
#include "testserver/server_config.h"

namespace xts::net {

class TransportServer {
 public:
  // Resolves --cert/--key or --self-signed (under config.data), binds both listeners.
  static std::expected<std::unique_ptr<TransportServer>, std::string> open(
      boost::asio::io_context& io, const ServerConfig& config, const TransportLimits& limits,
      ExchangeHandler handler);

  ~TransportServer();

  void start();
  // Stops accepting and ends every connection (GOAWAY on h2).
  void stop();

  std::optional<unsigned short> tls_port() const;
  std::optional<unsigned short> plain_port() const;
  std::optional<unsigned short> h3_port() const;
  const std::string& cert_file() const { return cert_file_; }
  std::size_t connection_count() const { return registry_.size(); }

 private:
  ConnectionRegistry registry_;
  std::shared_ptr<ResponseBudget> budget_;  // buffered response bytes, all connections
  std::unique_ptr<MemoryTrimmer> trimmer_;
  std::shared_ptr<Listener> tls_;
  std::shared_ptr<Listener> plain_;
  std::shared_ptr<QuicListener> h3_;
  std::string cert_file_;
};

}  // namespace xts::net
