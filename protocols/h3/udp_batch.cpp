#include "protocols/h3/udp_batch.h"

#include <netinet/in.h>
#include <netinet/udp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace xfer::protocols::h3 {

namespace {

constexpr std::size_t kRxMessages = 16;
// A coalesced (GRO) buffer holds up to 64 KiB; without GRO a datagram this large is still
// possible (a peer probing the path MTU of loopback).
constexpr std::size_t kRxBuffer = 64 * 1024;
// The largest UDP payload IPv4 allows: a GSO run must fit in it.
constexpr std::size_t kMaxUdpPayload = 65507;

}  // namespace

UdpBatch::UdpBatch(int fd) : fd_(fd), rx_(new std::uint8_t[kRxMessages * kRxBuffer]) {
  int on = 1;
  gro_ = ::setsockopt(fd_, SOL_UDP, UDP_GRO, &on, sizeof(on)) == 0;
}

bool UdpBatch::send_one(const std::uint8_t* data, std::size_t len, std::size_t segment, int& err) {
  iovec iov{const_cast<std::uint8_t*>(data), len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) std::uint8_t control[CMSG_SPACE(sizeof(std::uint16_t))]{};
  if (len > segment) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
    const auto size = static_cast<std::uint16_t>(segment);
    std::memcpy(CMSG_DATA(cm), &size, sizeof(size));
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (::sendmsg(fd_, &msg, 0) >= 0) return true;
    err = errno;
    if (err != EINTR) return false;
  }
  return false;
}

UdpBatch::SendOutcome UdpBatch::send(std::span<const std::uint8_t> packets, std::size_t segment,
                                     std::size_t& sent) {
  sent = 0;
  if (segment == 0) return SendOutcome::Sent;
  const std::size_t per_call = std::clamp<std::size_t>(kMaxUdpPayload / segment, 1, kMaxSegments);
  bool failed = false;
  while (sent < packets.size()) {
    const std::size_t left = packets.size() - sent;
    const std::size_t chunk = std::min(left, gso_ ? per_call * segment : segment);
    int err = 0;
    if (send_one(packets.data() + sent, chunk, segment, err)) {
      sent += chunk;
      continue;
    }
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return SendOutcome::WouldBlock;
    if (err == EIO && gso_ && chunk > segment) {
      gso_ = false;  // this path cannot segment: one packet per call from now on
      continue;
    }
    sent += chunk;  // lost on the way out
    failed = true;
  }
  return failed ? SendOutcome::Failed : SendOutcome::Sent;
}

long UdpBatch::receive(std::size_t max_datagrams, const OnDatagram& on_datagram) {
  long total = 0;
  // Each round reads at least one datagram or stops, so max_datagrams bounds the rounds.
  while (static_cast<std::size_t>(total) < max_datagrams) {
    mmsghdr msgs[kRxMessages]{};
    iovec iov[kRxMessages];
    sockaddr_storage from[kRxMessages];
    alignas(cmsghdr) std::uint8_t control[kRxMessages][CMSG_SPACE(sizeof(int))];
    const std::size_t want = std::min(kRxMessages, max_datagrams - static_cast<std::size_t>(total));
    for (std::size_t i = 0; i < want; ++i) {
      iov[i] = {rx_.get() + i * kRxBuffer, kRxBuffer};
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      if (gro_) {
        msgs[i].msg_hdr.msg_control = control[i];
        msgs[i].msg_hdr.msg_controllen = sizeof(control[i]);
      }
    }
    const int n = ::recvmmsg(fd_, msgs, static_cast<unsigned>(want), MSG_DONTWAIT, nullptr);
    if (n < 0) return total > 0 ? total : -errno;
    if (n == 0) break;
    for (int i = 0; i < n; ++i) {
      const msghdr& h = msgs[i].msg_hdr;
      if (h.msg_flags & MSG_TRUNC) continue;  // a cut datagram cannot be decrypted anyway
      std::size_t len = msgs[i].msg_len;
      std::size_t size = len;  // one datagram, unless the kernel coalesced several
      for (cmsghdr* cm = CMSG_FIRSTHDR(const_cast<msghdr*>(&h)); gro_ && cm;
           cm = CMSG_NXTHDR(const_cast<msghdr*>(&h), cm)) {
        if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
          int gso_size = 0;
          std::memcpy(&gso_size, CMSG_DATA(cm), sizeof(gso_size));
          if (gso_size > 0) size = static_cast<std::size_t>(gso_size);
        }
      }
      const std::uint8_t* data = static_cast<const std::uint8_t*>(iov[i].iov_base);
      for (std::size_t at = 0; at < len; at += size) {
        ++total;
        if (!on_datagram({data + at, std::min(size, len - at)}, from[i], h.msg_namelen)) return total;
      }
    }
    if (static_cast<std::size_t>(n) < want) break;  // the socket is drained
  }
  return total;
}

}  // namespace xfer::protocols::h3
