// QuicListener: the HTTP/3 listener. It reads every datagram from its DatagramPath, finds the
// connection by destination CID, and otherwise decides statelessly what to do with a new
// client: drop garbage, answer an unknown version with Version Negotiation, answer an Initial
// without a valid token with a Retry (address validation, on by default), refuse past
// limits.max_quic_connections, and else create an H3Connection. Retry tokens are sealed with a
// random secret made at start-up, so they die with the process. Event-loop thread only.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "testserver/net/connection_context.h"
#include "testserver/net/datagram_path.h"
#include "testserver/net/h3_connection.h"
#include "testserver/net/quic_server_tls.h"

namespace xts::net {

class QuicListener final : public QuicEndpoint, public std::enable_shared_from_this<QuicListener> {
 public:
  struct Options {
    bool retry = true;  // --no-quic-retry turns it off
    std::optional<ImpairSpec> impair;  // --udp-impair
  };

  static std::expected<std::shared_ptr<QuicListener>, std::string> open(
      boost::asio::io_context& io, const boost::asio::ip::udp::endpoint& endpoint,
      std::shared_ptr<const QuicServerCredentials> tls, std::shared_ptr<const ConnectionContext> ctx, Options options);

  unsigned short port() const { return path_->port(); }
  void start();
  // CONNECTION_CLOSE to every connection, then no more datagrams are read.
  void stop();
  std::size_t connection_count() const { return connections_.size(); }

  // QuicEndpoint.
  DatagramPath& datagram_path() override { return *path_; }
  void associate(const ngtcp2_cid& cid, const std::shared_ptr<H3Connection>& connection) override;
  void dissociate(const ngtcp2_cid& cid) override;
  void remove(H3Connection& connection) override;
  const std::array<std::uint8_t, 32>& secret() const override { return secret_; }

 private:
  QuicListener(boost::asio::io_context& io, std::shared_ptr<const QuicServerCredentials> tls,
               std::shared_ptr<const ConnectionContext> ctx, Options options);
  void on_datagram(const Datagram& d);
  void accept_new(const Datagram& d);
  void send_version_negotiation(const ngtcp2_version_cid& vc, const Datagram& d);
  void send_retry(const ngtcp2_pkt_hd& hd, const Datagram& d);
  void send_stateless_close(const ngtcp2_pkt_hd& hd, const Datagram& d, std::uint64_t error_code);

  boost::asio::io_context& io_;
  std::shared_ptr<const QuicServerCredentials> tls_;
  std::shared_ptr<const ConnectionContext> ctx_;
  Options options_;
  std::unique_ptr<DatagramPath> path_;
  std::array<std::uint8_t, 32> secret_{};
  std::unordered_map<std::string, std::shared_ptr<H3Connection>> by_cid_;
  // Every live connection and the CID keys that lead to it (so removal forgets them all).
  std::unordered_map<H3Connection*, std::vector<std::string>> connections_;
  bool stopped_ = false;
};

}  // namespace xts::net
