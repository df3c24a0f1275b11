// DatagramPath: the one place every UDP datagram of the HTTP/3 listener enters and leaves. It
// owns the socket (non-blocking, bound to one concrete address, 4 MiB buffers), reads in
// batches with recvmmsg and sends a run of equal-size packets as one sendmsg with a UDP_SEGMENT
// (GSO) control message, falling back to one sendmsg per packet for good if the kernel or
// route cannot segment (EIO). Because nothing else touches the socket, the packet-impairment
// layer (--udp-impair: loss, reordering, delay, corruption, blackhole; udp_impair.h) sits
// here, without the QUIC code knowing: with it, a GSO run is split and every datagram is
// impaired and sent on its own. Event-loop thread only.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>

#include "testserver/net/udp_impair.h"

namespace xts::net {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  std::string to_string() const;  // "ip:port"
};

struct Datagram {
  std::span<const std::uint8_t> data;
  const SocketAddress& remote;
};

class DatagramPath {
 public:
  enum class SendResult { Sent, WouldBlock };

  // Binds UDP at `endpoint` (the TLS listener's address and port). Fails with a sentence.
  static std::expected<std::unique_ptr<DatagramPath>, std::string> open(boost::asio::io_context& io,
                                                                       const boost::asio::ip::udp::endpoint& endpoint);
  ~DatagramPath();

  const SocketAddress& local() const { return local_; }
  unsigned short port() const;

  // Calls on_datagram for every datagram that arrives, until close().
  void start(std::function<void(const Datagram&)> on_datagram);
  void close();

  // Sends `data` to `remote`: packets of `segment` bytes each (the last may be shorter), as one
  // datagram when data.size() <= segment. WouldBlock: nothing was sent; call when_writable.
  // Other errors (EMSGSIZE, unreachable) count as sent: the packets are lost, which QUIC
  // handles (and PMTU probing relies on).
  SendResult send(const SocketAddress& remote, std::span<const std::uint8_t> data, std::size_t segment);
  void when_writable(std::function<void()> fn);

  // Every datagram received and sent from now on goes through `spec` (per datagram; a GSO
  // run is split). Call before start().
  void impair(const ImpairSpec& spec);

 private:
  explicit DatagramPath(boost::asio::io_context& io);
  void send_impaired(const SocketAddress& remote, std::span<const std::uint8_t> data, std::size_t segment);
  void wait_readable();
  void on_readable();
  bool send_one(const SocketAddress& remote, const std::uint8_t* data, std::size_t len, std::size_t segment,
                int& err);

  boost::asio::io_context& io_;
  boost::asio::ip::udp::socket socket_;
  SocketAddress local_;
  std::function<void(const Datagram&)> on_datagram_;
  std::vector<std::uint8_t> rx_buffers_;
  bool gso_ = true;
  bool closed_ = false;
  bool wait_write_ = false;
  std::vector<std::function<void()>> writable_waiters_;
  std::unique_ptr<Impairer> impairer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace xts::net
