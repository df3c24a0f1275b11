#include "testserver/net/udp_relay.h"

#include <boost/asio/ip/v6_only.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace xts::net {

namespace asio = boost::asio;
using boost::system::error_code;
using udp = asio::ip::udp;

namespace {

std::string text_of(const udp::endpoint& e) {
  if (e.address().is_v6()) return fmt::format("[{}]:{}", e.address().to_string(), e.port());
  return fmt::format("{}:{}", e.address().to_string(), e.port());
}

}  // namespace

UdpRelay::UdpRelay(asio::io_context& io, const udp::endpoint& target, Options options)
    : io_(io), target_(target), options_(std::move(options)), listen_(io), sweep_(io) {}

UdpRelay::~UdpRelay() { stop(); }

std::expected<std::shared_ptr<UdpRelay>, std::string> UdpRelay::open(asio::io_context& io, const udp::endpoint& listen,
                                                                    const udp::endpoint& target, Options options) {
  std::shared_ptr<UdpRelay> relay(new UdpRelay(io, target, std::move(options)));
  error_code ec;
  relay->listen_.open(listen.protocol(), ec);
  if (!ec && listen.address().is_v6()) relay->listen_.set_option(asio::ip::v6_only(true), ec);
  if (!ec) relay->listen_.bind(listen, ec);
  if (!ec) relay->listen_.non_blocking(true, ec);
  if (ec) return std::unexpected(fmt::format("--udp-relay: cannot bind UDP {}: {}", text_of(listen), ec.message()));
  relay->port_ = relay->listen_.local_endpoint(ec).port();
  if (relay->options_.impair) relay->impairer_ = std::make_unique<Impairer>(io, *relay->options_.impair);
  // Fail early when the target cannot be reached at all (wrong family).
  auto probe = relay->open_outbound();
  if (!probe) return std::unexpected(probe.error());
  return relay;
}

std::expected<std::shared_ptr<UdpRelay::Outbound>, std::string> UdpRelay::open_outbound() {
  auto out = std::make_shared<Outbound>(io_);
  error_code ec;
  out->socket.open(target_.protocol(), ec);
  if (!ec) out->socket.connect(target_, ec);  // binds a fresh ephemeral port
  if (!ec) out->socket.non_blocking(true, ec);
  if (ec) return std::unexpected(fmt::format("--udp-relay: cannot open a socket towards {}: {}", text_of(target_), ec.message()));
  out->port = out->socket.local_endpoint(ec).port();
  return out;
}

void UdpRelay::start() {
  if (impairer_) spdlog::info("relay: UDP impairment on: {}", impairer_->spec().to_string());
  receive_client();
  sweep_.expires_after(std::chrono::seconds(1));
  sweep_.async_wait([weak = weak_from_this()](error_code ec) {
    if (auto self = weak.lock(); self && !ec) self->on_sweep();
  });
}

void UdpRelay::stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ec;
  listen_.close(ec);
  sweep_.cancel();
  for (auto& [client, flow] : flows_) flow->out->socket.close(ec);
  flows_.clear();
  if (impairer_) impairer_->clear();
}

std::string UdpRelay::summary() const {
  return fmt::format("relay: flows={} rebinds={} refused={} expired={} to_target={} to_client={}", flows_total_,
                     rebinds_, refused_, expired_, to_target_, to_client_);
}

void UdpRelay::receive_client() {
  if (stopped_) return;
  listen_.async_receive_from(asio::buffer(rx_), rx_from_, [weak = weak_from_this()](error_code ec, std::size_t n) {
    auto self = weak.lock();
    if (!self || self->stopped_) return;
    if (!ec) self->on_client_datagram(n);
    self->receive_client();
  });
}

void UdpRelay::on_client_datagram(std::size_t n) {
  auto it = flows_.find(rx_from_);
  if (it == flows_.end()) {
    if (flows_.size() >= options_.max_flows) {
      ++refused_;
      return;
    }
    auto out = open_outbound();
    if (!out) {
      spdlog::warn("{}", out.error());
      return;
    }
    auto flow = std::make_shared<Flow>();
    flow->client = rx_from_;
    flow->out = std::move(*out);
    it = flows_.emplace(rx_from_, flow).first;
    ++flows_total_;
    spdlog::info("relay: new flow {} -> {} from port {}", text_of(flow->client), text_of(target_), flow->out->port);
    receive_target(flow, flow->out);
  }
  auto flow = it->second;
  flow->last = std::chrono::steady_clock::now();
  const std::span<const std::uint8_t> data(rx_.data(), n);
  if (!impairer_) return to_target(flow, data);
  impairer_->process(Impairer::Direction::In, data,
                     [this, weak = std::weak_ptr<Flow>(flow), alive = weak_from_this()](std::span<const std::uint8_t> b) {
                       auto f = weak.lock();
                       if (f && !alive.expired() && !stopped_) to_target(f, b);
                     });
}

void UdpRelay::to_target(const std::shared_ptr<Flow>& flow, std::span<const std::uint8_t> data) {
  flow->bytes += data.size();
  maybe_rebind(flow);
  error_code ec;
  flow->out->socket.send(asio::buffer(data.data(), data.size()), 0, ec);  // a full buffer loses it, as UDP may
  if (!ec) ++to_target_;
}

void UdpRelay::maybe_rebind(const std::shared_ptr<Flow>& flow) {
  if (options_.rebind_after == 0 || flow->rebound || flow->bytes < options_.rebind_after) return;
  auto out = open_outbound();
  if (!out) {
    spdlog::warn("relay: rebind of {}: {}", text_of(flow->client), out.error());
    return;
  }
  const unsigned short old_port = flow->out->port;
  error_code ec;
  flow->out->socket.close(ec);  // the old mapping is gone: late answers to it are lost
  flow->out = std::move(*out);
  flow->rebound = true;
  ++rebinds_;
  spdlog::info("relay: rebind {}: source port {} -> {} after {} bytes", text_of(flow->client), old_port,
               flow->out->port, flow->bytes);
  receive_target(flow, flow->out);
}

void UdpRelay::receive_target(const std::shared_ptr<Flow>& flow, const std::shared_ptr<Outbound>& out) {
  out->socket.async_receive(asio::buffer(out->buffer), [weak_self = weak_from_this(), weak = std::weak_ptr<Flow>(flow),
                                                        out](error_code ec, std::size_t n) {
    auto self = weak_self.lock();
    auto f = weak.lock();
    if (!self || !f || self->stopped_ || f->out != out) return;  // stopped, expired or rebound
    if (ec) {
      // ECONNREFUSED (ICMP port unreachable: the target is not there yet or any more): go on.
      if (ec == asio::error::operation_aborted) return;
      self->receive_target(f, out);
      return;
    }
    f->last = std::chrono::steady_clock::now();
    const std::span<const std::uint8_t> data(out->buffer.data(), n);
    if (!self->impairer_) {
      self->to_client(f, data);
    } else {
      self->impairer_->process(Impairer::Direction::Out, data,
                               [raw = self.get(), alive = std::weak_ptr<UdpRelay>(self), weak](std::span<const std::uint8_t> b) {
                                 auto f2 = weak.lock();
                                 if (f2 && !alive.expired() && !raw->stopped_) raw->to_client(f2, b);
                               });
    }
    self->receive_target(f, out);
  });
}

void UdpRelay::to_client(const std::shared_ptr<Flow>& flow, std::span<const std::uint8_t> data) {
  flow->bytes += data.size();
  error_code ec;
  listen_.send_to(asio::buffer(data.data(), data.size()), flow->client, 0, ec);
  if (!ec) ++to_client_;
}

void UdpRelay::on_sweep() {
  if (stopped_) return;
  const auto now = std::chrono::steady_clock::now();
  for (auto it = flows_.begin(); it != flows_.end();) {
    if (now - it->second->last > options_.idle) {
      spdlog::info("relay: flow {} idle, forgotten", text_of(it->first));
      error_code ec;
      it->second->out->socket.close(ec);
      ++expired_;
      it = flows_.erase(it);
    } else {
      ++it;
    }
  }
  sweep_.expires_after(std::chrono::seconds(1));
  sweep_.async_wait([weak = weak_from_this()](error_code ec) {
    if (auto self = weak.lock(); self && !ec) self->on_sweep();
  });
}

}  // namespace xts::net
