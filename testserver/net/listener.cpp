#include "testserver/net/listener.h"

#include <array>
#include <cstring>
#include <string_view>

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include "testserver/net/h1_connection.h"
#include "testserver/net/h2_connection.h"
#include "testserver/net/streams.h"

namespace xts::net {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct PendingTls {
  PendingTls(tcp::socket socket, asio::ssl::context& ctx)
      : stream(std::move(socket), ctx), timer(stream.get_executor()) {}
  TlsStream stream;
  asio::steady_timer timer;
};

struct PendingPlain {
  explicit PendingPlain(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
  tcp::socket socket;
  asio::steady_timer timer;
  std::array<char, kPreface.size()> buf{};
  std::size_t got = 0;
};

void read_preface(const std::shared_ptr<PendingPlain>& pending,
                  const std::shared_ptr<const ConnectionContext>& ctx) {
  pending->socket.async_read_some(
      asio::buffer(pending->buf.data() + pending->got, pending->buf.size() - pending->got),
      [pending, ctx](error_code ec, std::size_t n) {
        if (ec) {
          pending->timer.cancel();
          return;  // closed or timed out before saying anything
        }
        pending->got += n;
        const std::string_view seen(pending->buf.data(), pending->got);
        const bool maybe_h2 = kPreface.substr(0, seen.size()) == seen;
        if (maybe_h2 && pending->got < kPreface.size()) return read_preface(pending, ctx);
        pending->timer.cancel();
        if (maybe_h2) {
          std::make_shared<H2Connection<PlainStream>>(std::move(pending->socket), seen, ctx, "http")->start();
        } else {
          std::make_shared<H1Connection<PlainStream>>(std::move(pending->socket), seen, ctx, "http")->start();
        }
      });
}

}  // namespace

Listener::Listener(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
                   std::shared_ptr<const ConnectionContext> ctx)
    : io_(io), acceptor_(io), retry_timer_(io), tls_(std::move(tls)), ctx_(std::move(ctx)) {}

std::expected<std::shared_ptr<Listener>, std::string> Listener::open(
    asio::io_context& io, const tcp::endpoint& endpoint, std::shared_ptr<asio::ssl::context> tls,
    std::shared_ptr<const ConnectionContext> ctx) {
  std::shared_ptr<Listener> listener(new Listener(io, std::move(tls), std::move(ctx)));
  error_code ec;
  auto& acceptor = listener->acceptor_;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return std::unexpected(fmt::format("cannot listen on {}:{}: {}", endpoint.address().to_string(),
                                       endpoint.port(), ec.message()));
  }
  listener->port_ = acceptor.local_endpoint(ec).port();
  return listener;
}

void Listener::start() { accept(); }

void Listener::stop() {
  stopped_ = true;
  error_code ec;
  acceptor_.close(ec);
  retry_timer_.cancel();
}

void Listener::accept() {
  if (stopped_) return;
  acceptor_.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
    if (self->stopped_) return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning.
      spdlog::warn("accept: {}", ec.message());
      self->retry_timer_.expires_after(std::chrono::milliseconds(100));
      self->retry_timer_.async_wait([self](error_code e) {
        if (!e) self->accept();
      });
      return;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (self->tls_) {
      self->start_tls(std::move(socket));
    } else {
      self->sniff_plain(std::move(socket));
    }
    self->accept();
  });
}

void Listener::start_tls(tcp::socket socket) {
  auto pending = std::make_shared<PendingTls>(std::move(socket), *tls_);
  pending->timer.expires_after(ctx_->limits.header_timeout);
  pending->timer.async_wait([weak = std::weak_ptr<PendingTls>(pending)](error_code ec) {
    if (ec) return;
    if (auto p = weak.lock()) {
      error_code ignored;
      p->stream.next_layer().close(ignored);
    }
  });
  pending->stream.async_handshake(
      asio::ssl::stream_base::server, [pending, ctx = ctx_](error_code ec) {
        pending->timer.cancel();
        if (ec) {
          spdlog::debug("tls handshake: {}", ec.message());
          return;
        }
        const unsigned char* alpn = nullptr;
        unsigned int alpn_len = 0;
        SSL_get0_alpn_selected(pending->stream.native_handle(), &alpn, &alpn_len);
        const bool h2 = alpn_len == 2 && std::memcmp(alpn, "h2", 2) == 0;
        if (h2) {
          std::make_shared<H2Connection<TlsStream>>(std::move(pending->stream), std::string_view(), ctx, "https")->start();
        } else {
          std::make_shared<H1Connection<TlsStream>>(std::move(pending->stream), std::string_view(), ctx, "https")->start();
        }
      });
}

void Listener::sniff_plain(tcp::socket socket) {
  auto pending = std::make_shared<PendingPlain>(std::move(socket));
  pending->timer.expires_after(ctx_->limits.header_timeout);
  pending->timer.async_wait([weak = std::weak_ptr<PendingPlain>(pending)](error_code ec) {
    if (ec) return;
    if (auto p = weak.lock()) {
      error_code ignored;
      p->socket.close(ignored);
    }
  });
  read_preface(pending, ctx_);
}

}  // namespace xts::net
