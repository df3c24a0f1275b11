#include "testserver/net/datagram_path.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace xts::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::size_t kRxBatch = 32;
// Larger than any QUIC datagram a peer should send (ngtcp2 clients send at most ~1500 on
// loopback without PMTUD past it); a longer one is truncated and dropped.
constexpr std::size_t kRxSlot = 2048;
constexpr int kSocketBuffer = 4 * 1024 * 1024;

}  // namespace

std::string SocketAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (storage.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
    return fmt::format("{}:{}", text, port);
  }
  if (storage.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
    return fmt::format("[{}]:{}", text, port);
  }
  return "?";
}

DatagramPath::DatagramPath(asio::io_context& io) : io_(io), socket_(io), rx_buffers_(kRxBatch * kRxSlot) {}

DatagramPath::~DatagramPath() {
  *alive_ = false;
  close();
}

std::expected<std::unique_ptr<DatagramPath>, std::string> DatagramPath::open(asio::io_context& io,
                                                                            const asio::ip::udp::endpoint& endpoint) {
  std::unique_ptr<DatagramPath> path(new DatagramPath(io));
  error_code ec;
  path->socket_.open(endpoint.protocol(), ec);
  if (!ec && endpoint.address().is_v6()) path->socket_.set_option(asio::ip::v6_only(true), ec);
  if (!ec) path->socket_.bind(endpoint, ec);
  if (!ec) path->socket_.non_blocking(true, ec);
  if (ec) {
    return std::unexpected(fmt::format("cannot bind UDP {}:{} for HTTP/3: {}", endpoint.address().to_string(),
                                       endpoint.port(), ec.message()));
  }
  if (endpoint.address().is_unspecified()) {
    // path.local must be the same bytes for every datagram of a connection; a wildcard bind
    // would need IP_PKTINFO to learn them. The test server binds concrete addresses.
    return std::unexpected("HTTP/3 needs a concrete --listen address, not a wildcard (or use --no-http3)");
  }
  const int fd = path->socket_.native_handle();
  int size = kSocketBuffer;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (endpoint.address().is_v4()) {
    int pmtu = IP_PMTUDISC_DO;  // QUIC must not be fragmented (RFC 9000 §14)
    ::setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
  } else {
    int pmtu = IPV6_PMTUDISC_DO;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu);
  }
  path->local_.len = sizeof(path->local_.storage);
  if (::getsockname(fd, path->local_.get(), &path->local_.len) != 0)
    return std::unexpected(fmt::format("getsockname: {}", std::strerror(errno)));
  return path;
}

unsigned short DatagramPath::port() const {
  if (local_.storage.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&local_.storage)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&local_.storage)->sin6_port);
}

void DatagramPath::start(std::function<void(const Datagram&)> on_datagram) {
  on_datagram_ = std::move(on_datagram);
  wait_readable();
}

void DatagramPath::close() {
  if (closed_) return;
  closed_ = true;
  if (impairer_) impairer_->clear();
  error_code ec;
  socket_.close(ec);
  writable_waiters_.clear();
}

void DatagramPath::wait_readable() {
  if (closed_) return;
  socket_.async_wait(asio::socket_base::wait_read, [this, alive = std::weak_ptr<bool>(alive_)](error_code ec) {
    if (alive.expired() || closed_ || ec) return;
    on_readable();
  });
}

void DatagramPath::on_readable() {
  // A bounded number of batches per turn, so a flood does not starve timers and writes.
  for (int round = 0; round < 8 && !closed_; ++round) {
    mmsghdr msgs[kRxBatch];
    iovec iov[kRxBatch];
    SocketAddress from[kRxBatch];
    std::memset(msgs, 0, sizeof msgs);
    for (std::size_t i = 0; i < kRxBatch; ++i) {
      iov[i] = {rx_buffers_.data() + i * kRxSlot, kRxSlot};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i].storage;
      msgs[i].msg_hdr.msg_namelen = sizeof(from[i].storage);
    }
    const int n = ::recvmmsg(socket_.native_handle(), msgs, kRxBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        spdlog::debug("quic: recvmmsg: {}", std::strerror(errno));
      break;
    }
    auto alive = std::weak_ptr<bool>(alive_);
    for (int i = 0; i < n; ++i) {
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) continue;
      from[i].len = msgs[i].msg_hdr.msg_namelen;
      const std::span<const std::uint8_t> bytes(rx_buffers_.data() + static_cast<std::size_t>(i) * kRxSlot,
                                                msgs[i].msg_len);
      if (impairer_) {
        impairer_->process(Impairer::Direction::In, bytes,
                           [this, alive, remote = from[i]](std::span<const std::uint8_t> b) {
                             if (alive.expired() || closed_) return;
                             on_datagram_(Datagram{b, remote});
                           });
      } else {
        on_datagram_(Datagram{bytes, from[i]});
      }
      if (alive.expired() || closed_) return;
    }
    if (static_cast<std::size_t>(n) < kRxBatch) break;
  }
  wait_readable();
}

bool DatagramPath::send_one(const SocketAddress& remote, const std::uint8_t* data, std::size_t len,
                            std::size_t segment, int& err) {
  iovec iov{const_cast<std::uint8_t*>(data), len};
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr*>(remote.get());
  msg.msg_namelen = remote.len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) std::uint8_t control[CMSG_SPACE(sizeof(std::uint16_t))]{};
  if (len > segment) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
    const auto seg = static_cast<std::uint16_t>(segment);
    std::memcpy(CMSG_DATA(cm), &seg, sizeof seg);
  }
  for (;;) {
    if (::sendmsg(socket_.native_handle(), &msg, MSG_DONTWAIT) >= 0) return true;
    if (errno == EINTR) continue;
    err = errno;
    return false;
  }
}

DatagramPath::SendResult DatagramPath::send(const SocketAddress& remote, std::span<const std::uint8_t> data,
                                            std::size_t segment) {
  if (closed_ || data.empty()) return SendResult::Sent;
  segment = std::max<std::size_t>(segment, 1);
  if (impairer_) {
    send_impaired(remote, data, segment);
    return SendResult::Sent;
  }
  std::size_t offset = 0;
  while (offset < data.size()) {
    // With GSO the whole run goes at once (at most 64 segments; the kernel's limit); without
    // it, one packet per call.
    const std::size_t chunk = gso_ ? std::min(data.size() - offset, segment * 64) : std::min(data.size() - offset, segment);
    int err = 0;
    if (send_one(remote, data.data() + offset, chunk, segment, err)) {
      offset += chunk;
      continue;
    }
    if (err == EAGAIN || err == EWOULDBLOCK) {
      if (offset == 0) return SendResult::WouldBlock;
      // Part went: the rest is dropped rather than resent out of order (QUIC recovers).
      return SendResult::Sent;
    }
    if (err == EIO && gso_ && chunk > segment) {
      spdlog::info("quic: UDP GSO not supported here ({}), sending one packet per call", std::strerror(err));
      gso_ = false;
      continue;
    }
    spdlog::debug("quic: sendmsg to {}: {}", remote.to_string(), std::strerror(err));
    offset += chunk;  // lost
  }
  return SendResult::Sent;
}

void DatagramPath::impair(const ImpairSpec& spec) {
  impairer_ = std::make_unique<Impairer>(io_, spec);
  spdlog::info("quic: UDP impairment on: {}", spec.to_string());
}

// Impaired: one datagram at a time (a GSO run is split), each sent on its own when the
// impairment lets it through (now or from a timer). A full socket buffer loses the datagram
// instead of WouldBlock (a delayed datagram has nobody to wait for it).
void DatagramPath::send_impaired(const SocketAddress& remote, std::span<const std::uint8_t> data, std::size_t segment) {
  auto alive = std::weak_ptr<bool>(alive_);
  for (std::size_t offset = 0; offset < data.size(); offset += segment) {
    const auto one = data.subspan(offset, std::min(segment, data.size() - offset));
    impairer_->process(Impairer::Direction::Out, one, [this, alive, remote](std::span<const std::uint8_t> b) {
      if (alive.expired() || closed_) return;
      int err = 0;
      if (!send_one(remote, b.data(), b.size(), b.size(), err))
        spdlog::debug("quic: sendmsg to {}: {}", remote.to_string(), std::strerror(err));
    });
    if (alive.expired() || closed_) return;
  }
}

void DatagramPath::when_writable(std::function<void()> fn) {
  if (closed_) return;
  writable_waiters_.push_back(std::move(fn));
  if (wait_write_) return;
  wait_write_ = true;
  socket_.async_wait(asio::socket_base::wait_write, [this, alive = std::weak_ptr<bool>(alive_)](error_code ec) {
    if (alive.expired()) return;
    wait_write_ = false;
    if (closed_ || ec) return;
    auto waiters = std::move(writable_waiters_);
    writable_waiters_.clear();
    for (auto& w : waiters) w();
  });
}

}  // namespace xts::net
