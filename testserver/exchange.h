// Exchange: one HTTP request/response as the handlers see it, whatever carries it
// (HTTP/1.1 over Beast, HTTP/2 over nghttp2, HTTP/3 over ngtcp2 + nghttp3). Transports implement
// it; handlers (files, uploads, control) and the fault decorator use only this interface, so a
// third transport plugs in without touching them.
//
// Threading: every method must be called on executor(); every callback runs there too.
// Lifetime: the transport keeps the Exchange alive while the stream is open; handlers hold a
// shared_ptr while they have work in flight. After the peer goes away, closed() is true, pending
// callbacks complete with an error, and further calls are harmless no-ops.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

namespace xts {

// Allocator that default-initialises: resize() on a byte buffer leaves the new bytes as they
// are instead of zero-filling them, so a buffer about to be filled by pread() costs no memset.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// A response body chunk: a byte vector whose resize() does not zero-fill.
using Bytes = std::vector<std::uint8_t, DefaultInitAllocator<std::uint8_t>>;

struct Header {
  std::string name;  // lower case
  std::string value;
};
using Headers = std::vector<Header>;

struct Request {
  std::string method;
  std::string target;     // raw request-target: path and query as received
  std::string path;       // percent-decoded path, no query
  std::string query;      // raw query string without '?'
  std::string protocol;   // "http/1.1", "h2", "h3"
  std::string scheme;     // "http" or "https"
  std::string authority;  // Host / :authority
  Headers headers;
  std::optional<std::uint64_t> content_length;
  std::string peer;  // "ip:port" of the client, for logs

  // First header with this (lower-case) name, or nullptr.
  const std::string* header(std::string_view name) const;
};

class Exchange {
 public:
  virtual ~Exchange() = default;

  virtual const Request& request() const = 0;
  virtual boost::asio::any_io_executor executor() = 0;

  // Request body, pulled one chunk at a time: the transport reads no further from the peer
  // than it needs to serve the next read_body (flow control reaches the sender). The handler
  // gets (data, eof=false) for each chunk, then (empty, eof=true) at the end; on a broken
  // connection or stream reset, ec is set. At most one read_body is outstanding.
  using BodyHandler =
      std::function<void(std::span<const std::uint8_t> data, bool eof, boost::system::error_code ec)>;
  virtual void read_body(BodyHandler handler) = 0;

  // A 1xx interim response (104 Upload Resumption Supported). May be sent before the body
  // is read and more than once; not after send_response_head.
  virtual void send_interim(int status, const Headers& headers) = 0;

  // The final status and headers. content_length nullopt means "unknown" (chunked on HTTP/1.1).
  // With no body to follow (HEAD, 204, 304), call finish() right after.
  virtual void send_response_head(int status, const Headers& headers,
                                  std::optional<std::uint64_t> content_length) = 0;

  // Room for the next body chunk: ready(room, ec) runs once the transport can take at least one
  // byte without holding it past its limits (HTTP/2: the peer's send window; every transport:
  // the per-stream, per-connection and server-wide budgets of buffered response bytes), with
  // room = what it can take now, at most `max`. A handler that sizes each read by it reads
  // nothing ahead of what can be sent. The room is held for the next write_body. At most one
  // await_room is outstanding; on a closed exchange ec is set.
  using RoomHandler = std::function<void(std::size_t room, boost::system::error_code ec)>;
  virtual void await_room(std::size_t max, RoomHandler ready);

  // One body chunk; done runs when the transport has taken it (and can take more). At most one
  // write_body is outstanding. The transport owns data from the call on.
  using WriteHandler = std::function<void(boost::system::error_code ec)>;
  virtual void write_body(Bytes data, WriteHandler done) = 0;

  // The response is complete (after the last write_body completed).
  virtual void finish() = 0;

  // Fault injection. abort_reset: an abortive end (HTTP/1.1: TCP RST via SO_LINGER 0; h2:
  // RST_STREAM; h3: RESET_STREAM + STOP_SENDING). abort_close: a clean end of the connection
  // (HTTP/1.1: FIN after flushing what was written; h2: GOAWAY then close; h3:
  // CONNECTION_CLOSE).
  virtual void abort_reset() = 0;
  virtual void abort_close() = 0;

  // True once the peer went away or the exchange was aborted.
  virtual bool closed() const = 0;
};

// What the transports call for every request once its headers are complete.
using ExchangeHandler = std::function<void(std::shared_ptr<Exchange>)>;

}  // namespace xts
