// UdpRelay (xfer-testserver --udp-relay LISTEN=TARGET): forwards UDP datagrams from each client
// to TARGET through a socket of its own per client (a "flow"), and TARGET's answers back to
// that client. With rebind_after, once a flow has carried that many bytes (both directions)
// the relay moves it to a NEW socket (new ephemeral port) towards TARGET, once: the server sees
// the client's address change mid-connection, as behind a NAT that rebinds. An optional
// impairment (--udp-impair) applies to both directions. Bounded: at most max_flows clients
// (datagrams of further ones are dropped), a flow idle for `idle` is forgotten. Event-loop
// thread only.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "testserver/net/udp_impair.h"

namespace xts::net {

class UdpRelay : public std::enable_shared_from_this<UdpRelay> {
 public:
  struct Options {
    std::uint64_t rebind_after = 0;  // 0 = never
    std::optional<ImpairSpec> impair;
    std::size_t max_flows = 256;
    std::chrono::milliseconds idle{30'000};
  };

  static std::expected<std::shared_ptr<UdpRelay>, std::string> open(boost::asio::io_context& io,
                                                                    const boost::asio::ip::udp::endpoint& listen,
                                                                    const boost::asio::ip::udp::endpoint& target,
                                                                    Options options);
  ~UdpRelay();

  unsigned short port() const { return port_; }
  void start();
  void stop();
  std::string summary() const;  // "relay: flows=… rebinds=… …"

 private:
  struct Outbound {
    explicit Outbound(boost::asio::io_context& io) : socket(io) {}
    boost::asio::ip::udp::socket socket;
    unsigned short port = 0;
    std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(65536);
  };
  struct Flow {
    boost::asio::ip::udp::endpoint client;
    std::shared_ptr<Outbound> out;
    std::uint64_t bytes = 0;
    bool rebound = false;
    std::chrono::steady_clock::time_point last;
  };

  UdpRelay(boost::asio::io_context& io, const boost::asio::ip::udp::endpoint& target, Options options);
  std::expected<std::shared_ptr<Outbound>, std::string> open_outbound();
  void receive_client();
  void on_client_datagram(std::size_t n);
  void receive_target(const std::shared_ptr<Flow>& flow, const std::shared_ptr<Outbound>& out);
  void to_target(const std::shared_ptr<Flow>& flow, std::span<const std::uint8_t> data);
  void to_client(const std::shared_ptr<Flow>& flow, std::span<const std::uint8_t> data);
  void maybe_rebind(const std::shared_ptr<Flow>& flow);
  void on_sweep();

  boost::asio::io_context& io_;
  boost::asio::ip::udp::endpoint target_;
  Options options_;
  boost::asio::ip::udp::socket listen_;
  unsigned short port_ = 0;
  std::vector<std::uint8_t> rx_ = std::vector<std::uint8_t>(65536);
  boost::asio::ip::udp::endpoint rx_from_;
  std::map<boost::asio::ip::udp::endpoint, std::shared_ptr<Flow>> flows_;
  std::unique_ptr<Impairer> impairer_;
  boost::asio::steady_timer sweep_;
  bool stopped_ = false;
  std::uint64_t flows_total_ = 0, rebinds_ = 0, refused_ = 0, expired_ = 0;
  std::uint64_t to_target_ = 0, to_client_ = 0;
};

}  // namespace xts::net
