// Listener: accepts TCP connections on one address and hands each to the right connection
// type. TLS listeners finish the handshake (bounded by limits.header_timeout) and pick
// HTTP/2 or HTTP/1.1 by ALPN; plain listeners look at the first bytes: the HTTP/2 client
// preface means h2c with prior knowledge, anything else is HTTP/1.1.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "testserver/net/connection_context.h"

namespace xts::net {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // tls == nullptr: plain listener.
  static std::expected<std::shared_ptr<Listener>, std::string> open(
      boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
      std::shared_ptr<boost::asio::ssl::context> tls, std::shared_ptr<const ConnectionContext> ctx);

  unsigned short port() const { return port_; }
  void start();
  void stop();

 private:
  Listener(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls,
           std::shared_ptr<const ConnectionContext> ctx);
  void accept();
  void start_tls(boost::asio::ip::tcp::socket socket);
  void sniff_plain(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::shared_ptr<const ConnectionContext> ctx_;
  unsigned short port_ = 0;
  bool stopped_ = false;
};

}  // namespace xts::net
