// RequestBody: the request-body bytes of one HTTP/3 stream on their way from the engine's sink
// to nghttp3. nghttp3 takes them by pointer and may send them again (a lost packet) until the
// server has acknowledged them, so they stay here until then; at most `limit` unacknowledged
// bytes are held, which bounds the memory an upload costs and makes the server's pace (its
// acknowledgements and flow-control credit) the pace at which the source is read.
//
// It outlives its H3Stream: a response may end (or the engine abandon the exchange) while
// nghttp3 still holds pointers into the queue, so the connection owns it until the QUIC stream
// closes. Once the sink is detached nothing more is read.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include <nghttp3/nghttp3.h>

#include <xfer/error.h>

#include "protocols/transport.h"

namespace xfer::protocols::h3 {

class RequestBody {
 public:
  // `length`: the exact body length announced in content-length.
  RequestBody(std::uint64_t length, std::size_t limit, ExchangeSink* sink);

  enum class Fill { Data, Blocked, Failed };
  struct Filled {
    Fill outcome = Fill::Blocked;
    std::size_t vectors = 0;  // filled entries of the caller's array
    bool eof = false;         // the last byte is in what was handed over (or was before)
  };
  // nghttp3's read_data: hands over queued bytes nghttp3 does not have yet, reading more from the
  // sink while the limit allows. Blocked: nothing to hand now — the sink paused (it calls
  // resume_send later), or the limit is reached (acked() says when to resume).
  Filled fill(nghttp3_vec* vec, std::size_t count);

  // The server acknowledged `bytes` more; true when fill() had stopped at the limit and may go on.
  bool acked(std::uint64_t bytes);

  // No more reads from the sink (its exchange is over); queued bytes stay for nghttp3.
  void detach_sink() { sink_ = nullptr; }

  bool all_read() const { return read_ == length_; }
  bool all_acked() const { return acked_ == length_; }
  std::uint64_t acked_bytes() const { return acked_; }
  bool paused_by_sink() const { return sink_paused_; }
  void sink_resumed() { sink_paused_ = false; }
  // Why fill() failed (the sink's body ended early or overran what it was asked for).
  const std::optional<Error>& error() const { return error_; }

 private:
  std::uint64_t length_;
  std::size_t limit_;
  ExchangeSink* sink_;
  std::deque<std::vector<std::uint8_t>> queue_;  // unacknowledged, oldest first
  std::size_t handed_chunks_ = 0;                // leading chunks nghttp3 already has
  std::size_t queued_bytes_ = 0;
  std::size_t front_acked_ = 0;                  // acknowledged bytes of queue_.front()
  std::uint64_t read_ = 0;
  std::uint64_t acked_ = 0;
  bool sink_paused_ = false;
  bool blocked_on_limit_ = false;
  std::optional<Error> error_;
};

}  // namespace xfer::protocols::h3
