#include "testserver/net/transport_server.h"

#include <filesystem>

#include "testserver/net/listen_address.h"
#include "testserver/net/response_headers.h"
#include "testserver/net/self_signed_cert.h"
#include "testserver/net/tls_context.h"

namespace xts::net {

std::expected<std::unique_ptr<TransportServer>, std::string> TransportServer::open(
    boost::asio::io_context& io, const ServerConfig& config, const TransportLimits& limits,
    ExchangeHandler handler) {
  auto server = std::make_unique<TransportServer>();
  auto ctx = std::make_shared<ConnectionContext>();
  ctx->handler = std::move(handler);
  ctx->limits = limits;
  ctx->registry = &server->registry_;
  server->budget_ = std::make_shared<ResponseBudget>(io.get_executor(), kServerResponseBudget);
  ctx->server_budget = server->budget_;
  server->trimmer_ = std::make_unique<MemoryTrimmer>(io.get_executor(), server->registry_, server->budget_);

  if (!config.listen.empty()) {
    auto endpoint = parse_listen_address(config.listen);
    if (!endpoint) return std::unexpected("--listen " + endpoint.error());
    std::string cert = config.cert_file;
    std::string key = config.key_file;
    if (config.self_signed) {
      auto files = ensure_self_signed_certificate(std::filesystem::path(config.data) / "tls");
      if (!files) return std::unexpected("--self-signed: " + files.error());
      cert = std::filesystem::absolute(files->cert).string();
      key = std::filesystem::absolute(files->key).string();
    }
    if (cert.empty() || key.empty()) return std::unexpected("--listen needs --cert and --key, or --self-signed");
    auto tls = make_tls_context(cert, key);
    if (!tls) return std::unexpected(tls.error());
    auto listener = Listener::open(io, *endpoint, std::move(*tls), ctx);
    if (!listener) return std::unexpected(listener.error());
    server->tls_ = std::move(*listener);
    server->cert_file_ = std::filesystem::absolute(cert).string();
    if (config.http3) {
      // The same port number over UDP, known only now that TCP has bound (port 0 = any).
      auto credentials = QuicServerCredentials::load(cert, key);
      if (!credentials) return std::unexpected(credentials.error());
      const boost::asio::ip::udp::endpoint udp(endpoint->address(), server->tls_->port());
      QuicListener::Options quic;
      quic.retry = config.quic_retry;
      if (!config.udp_impair.empty()) {
        auto spec = parse_impair_spec(config.udp_impair);
        if (!spec) return std::unexpected("--udp-impair: " + spec.error());
        if (spec->active()) quic.impair = *spec;
      }
      auto h3 = QuicListener::open(io, udp, std::move(*credentials), ctx, quic);
      if (!h3) return std::unexpected(h3.error() + " (the TLS listener has this port over TCP; --no-http3 turns HTTP/3 off)");
      server->h3_ = std::move(*h3);
      ctx->alt_svc = alt_svc_h3(server->h3_->port());
    }
  }
  if (!config.listen_plain.empty()) {
    auto endpoint = parse_listen_address(config.listen_plain);
    if (!endpoint) return std::unexpected("--listen-plain " + endpoint.error());
    auto listener = Listener::open(io, *endpoint, nullptr, ctx);
    if (!listener) return std::unexpected(listener.error());
    server->plain_ = std::move(*listener);
  }
  if (!server->tls_ && !server->plain_) return std::unexpected("nothing to listen on: give --listen and/or --listen-plain");
  return server;
}

TransportServer::~TransportServer() {
  // QUIC connections and their listener refer to each other until the listener stops.
  if (h3_) h3_->stop();
}

void TransportServer::start() {
  if (h3_) h3_->start();
  if (tls_) tls_->start();
  if (plain_) plain_->start();
  trimmer_->start();
}

void TransportServer::stop() {
  trimmer_->stop();
  if (tls_) tls_->stop();
  if (plain_) plain_->stop();
  registry_.stop_all();
  if (h3_) h3_->stop();
}

std::optional<unsigned short> TransportServer::tls_port() const {
  if (!tls_) return std::nullopt;
  return tls_->port();
}

std::optional<unsigned short> TransportServer::h3_port() const {
  if (!h3_) return std::nullopt;
  return h3_->port();
}

std::optional<unsigned short> TransportServer::plain_port() const {
  if (!plain_) return std::nullopt;
  return plain_->port();
}

}  // namespace xts::net
