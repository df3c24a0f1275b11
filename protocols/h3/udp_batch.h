// UdpBatch: the HTTP/3 client's system calls on its connected UDP socket, few per packet.
//
// Sending: a run of packets of one size (the last may be shorter) leaves in one sendmsg with a
// UDP_SEGMENT control message (GSO): the kernel cuts it into datagrams, so a window of data
// costs a handful of system calls instead of one per 1,200-byte packet. A kernel or route that
// cannot segment answers EIO; from then on every packet goes in its own sendmsg.
//
// Receiving: recvmmsg fills many buffers per call, and with UDP_GRO (asked for at construction,
// kept if the kernel grants it) one buffer may hold several datagrams the kernel coalesced; a
// control message gives their size, and each is handed over on its own.
//
// Not thread-safe: the connection's loop thread only. The socket stays the caller's.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

namespace xfer::protocols::h3 {

class UdpBatch {
 public:
  // The most packets one sendmsg may carry (the kernel's UDP_MAX_SEGMENTS).
  static constexpr std::size_t kMaxSegments = 64;

  explicit UdpBatch(int fd);

  enum class SendOutcome {
    Sent,        // handed to the kernel (which may still drop it: QUIC recovers)
    WouldBlock,  // nothing of it left: send it again once the socket is writable
    Failed,      // refused (EMSGSIZE for an oversized probe, ICMP news): lost, which QUIC handles
  };
  // `packets`: consecutive packets of `segment` bytes each, the last one possibly shorter.
  // `sent`: how many of the bytes went (whole packets); on WouldBlock the rest is the caller's
  // to send again, so no packet leaves twice.
  SendOutcome send(std::span<const std::uint8_t> packets, std::size_t segment, std::size_t& sent);

  // Reads what is waiting, up to `max_datagrams`, calling `on_datagram` for each (a coalesced
  // buffer split back into datagrams). Returns the count read, or -errno of the first failed
  // read when nothing was read (EAGAIN: nothing waiting).
  using OnDatagram = std::function<bool(std::span<const std::uint8_t> datagram, const sockaddr_storage& from,
                                        socklen_t from_len)>;
  // on_datagram returns false to stop reading (the connection closed).
  long receive(std::size_t max_datagrams, const OnDatagram& on_datagram);

 private:
  bool send_one(const std::uint8_t* data, std::size_t len, std::size_t segment, int& err);

  int fd_;
  bool gso_ = true;
  bool gro_ = false;
  // kRxMessages buffers of kRxBuffer bytes, left uninitialised: only the pages datagrams
  // land in cost memory.
  std::unique_ptr<std::uint8_t[]> rx_;
};

}  // namespace xfer::protocols::h3
