// TransportLimits: the safety limits and timeouts every transport applies to its peers, so a
// slow or hostile client can neither pin memory nor hold a connection forever. Defaults suit a
// test server on loopback; main.cpp can shorten the timeouts (tests of the slow-loris defence).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace xts::net {

struct TransportLimits {
  // Request header block: total bytes (name + value + 32 per field on h2, raw bytes on h1) and
  // number of fields. Past either the request gets 431.
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_header_count = 200;
  // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS.
  std::uint32_t max_concurrent_streams = 100;
  // A request's headers (and a TLS handshake, and the h2 preface) must complete this fast.
  std::chrono::milliseconds header_timeout{10'000};
  // A connection with no request in progress is closed after this long.
  std::chrono::milliseconds idle_timeout{60'000};
  // A body read or write that makes no progress for this long ends the connection.
  std::chrono::milliseconds io_timeout{60'000};
  // QUIC connections the HTTP/3 listener keeps at once; new clients past it are refused
  // (CONNECTION_CLOSE with CONNECTION_REFUSED, no state kept).
  std::size_t max_quic_connections = 1000;
};

// Bytes a handler may queue on one response before write_body's completion waits for the
// socket: enough to keep large writes going, small enough to bound memory per stream. On
// HTTP/2 a stream also never holds more than the peer's send window lets out (await_room).
inline constexpr std::size_t kResponseHighWater = 1024 * 1024;
// Response bytes all streams of one HTTP/2 connection, and all connections of the server, may
// hold: a batch of stalled peers can pin at most this much (docs/testserver.md).
inline constexpr std::size_t kConnectionResponseBudget = 8 * 1024 * 1024;
inline constexpr std::size_t kServerResponseBudget = 64 * 1024 * 1024;
// Largest chunk handed to read_body on HTTP/1.1 (h2 hands over what the stream window let in).
inline constexpr std::size_t kBodyChunk = 256 * 1024;
// HTTP/2 receive windows: per stream and per connection. Bytes are only acknowledged
// (WINDOW_UPDATE) once the handler pulled them, so these bound buffered upload data.
inline constexpr std::int32_t kH2StreamWindow = 2 * 1024 * 1024;
inline constexpr std::int32_t kH2ConnectionWindow = 8 * 1024 * 1024;
// One socket write gathers up to this many bytes.
inline constexpr std::size_t kWriteBatch = 512 * 1024;

}  // namespace xts::net
