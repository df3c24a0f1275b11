// H3Stream: the Exchange of one HTTP/3 request stream, and H3Session, the little it needs from
// its QUIC connection. Request body bytes wait here until the handler pulls them and only then
// open the peer's stream and connection windows again (H3Session::consumed), so a slow
// handler back-pressures the client and at most one stream window is buffered per stream.
// Response body chunks are handed to nghttp3 without copying and stay here until QUIC has
// them acknowledged (nghttp3's acked_stream_data); what a stream holds is capped by
// kResponseHighWater and the connection's and server's ResponseBudgets (await_room). Every
// handler callback is posted, never run inside an ngtcp2 or nghttp3 call.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <nghttp3/nghttp3.h>

#include <boost/asio/any_io_executor.hpp>

#include "testserver/exchange.h"
#include "testserver/net/limits.h"
#include "testserver/net/stream_fields.h"
#include "testserver/net/response_budget.h"

namespace xts::net {

class H3Session {
 public:
  virtual ~H3Session() = default;
  virtual nghttp3_conn* http3() = 0;
  virtual boost::asio::any_io_executor executor() = 0;
  virtual void schedule_write() = 0;
  // The handler took `bytes` of the stream's request body: the peer may send that much more.
  virtual void consumed(std::int64_t stream_id, std::size_t bytes) = 0;
  // Abortive end of one stream: RESET_STREAM + STOP_SENDING (H3_INTERNAL_ERROR).
  virtual void reset_stream(std::int64_t stream_id) = 0;
  // STOP_SENDING(H3_NO_ERROR): the response is complete, the rest of the request is not wanted.
  virtual void stop_reading(std::int64_t stream_id) = 0;
  // CONNECTION_CLOSE(H3_NO_ERROR) for the whole connection.
  virtual void close_connection() = 0;
  virtual bool gone() const = 0;
  virtual ResponseBudget& connection_budget() = 0;
  virtual ResponseBudget* server_budget() = 0;
  virtual void schedule_room_check() = 0;
};

class H3Stream final : public Exchange,
                       public ResponseBudget::Waiter,
                       public std::enable_shared_from_this<H3Stream> {
 public:
  H3Stream(std::shared_ptr<H3Session> session, std::int64_t id, Request base);

  // Exchange.
  const Request& request() const override { return request_; }
  boost::asio::any_io_executor executor() override { return executor_; }
  void read_body(BodyHandler handler) override;
  void send_interim(int status, const Headers& headers) override;
  void send_response_head(int status, const Headers& headers,
                          std::optional<std::uint64_t> content_length) override;
  void await_room(std::size_t max, RoomHandler ready) override;
  void write_body(Bytes data, WriteHandler done) override;
  void finish() override;
  void abort_reset() override;
  void abort_close() override;
  bool closed() const override { return closed_; }

  // Connection side (inside nghttp3 callbacks).
  std::int64_t id() const { return id_; }
  void add_header(std::string_view name, std::string_view value, const TransportLimits& limits);
  bool too_large() const { return fields_.too_large(); }
  bool complete_headers();
  bool dispatched() const { return dispatched_; }
  void set_dispatched() { dispatched_ = true; }
  std::chrono::steady_clock::time_point created() const { return created_; }
  void on_data(const std::uint8_t* data, std::size_t len);
  void on_end_of_request();
  // Request bytes that arrived but were never handed to the handler.
  std::uint64_t unconsumed() const { return received_ - consumed_; }
  void on_acked(std::uint64_t bytes);
  void on_closed(std::uint64_t app_error_code);
  void reject(int status);
  nghttp3_ssize read_data(nghttp3_vec* vec, std::size_t veccnt, std::uint32_t* flags);
  void recheck_room();
  // True once response bytes have waited for acknowledgement for `limit` without any
  // progress: the peer stopped reading (flow control or no ACKs), not the handler.
  // Reports each stall once per `limit`.
  bool stuck(std::chrono::steady_clock::time_point now, std::chrono::milliseconds limit) {
    if (stream_closed_ || chunk_bytes_ == 0 || now - progress_ <= limit) return false;
    progress_ = now;
    return true;
  }
  bool awaiting_room() const { return pending_room_ != nullptr; }
  void on_budget_room() override { recheck_room(); }

 private:
  enum class Abort { None, Reset, Close };
  bool usable() const { return !closed_ && session_ && !session_->gone(); }
  void deliver_soon();
  void deliver();
  void fail_pending();
  void resume();
  void account();
  // An abort waits until every byte written before it was acknowledged, so the peer has
  // exactly those bytes when it sees the reset or close.
  void maybe_fire_abort();

  std::shared_ptr<H3Session> session_;
  boost::asio::any_io_executor executor_;
  std::int64_t id_;
  Request request_;
  RequestFields fields_{request_};  // folds the header block into request_
  std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  bool dispatched_ = false;
  bool closed_ = false;
  bool stream_closed_ = false;

  // Request body: appended to in_buf_, handed over whole by swapping buffers.
  std::vector<std::uint8_t> in_buf_;
  std::vector<std::uint8_t> delivered_;
  std::uint64_t received_ = 0;
  std::uint64_t consumed_ = 0;
  bool request_eof_ = false;
  bool deliver_posted_ = false;
  BodyHandler pending_read_;

  // Response. Offsets count body bytes from the first write_body on: chunks_ starts at
  // acked_ (bytes before it were acknowledged and freed).
  bool head_sent_ = false;
  bool has_reader_ = false;
  bool no_body_ = false;
  bool finished_ = false;
  bool eof_handed_ = false;
  bool blocked_ = false;  // the reader said WOULDBLOCK: resume when there is more
  Abort abort_ = Abort::None;
  bool abort_fired_ = false;
  std::deque<Bytes> chunks_;
  std::size_t front_offset_ = 0;  // acknowledged bytes of chunks_.front()
  std::size_t chunk_bytes_ = 0;   // what chunks_ occupy (a chunk is freed once all of it is acked)
  std::chrono::steady_clock::time_point progress_;  // last ack, or when bytes began to wait
  std::uint64_t written_ = 0;
  std::uint64_t handed_ = 0;
  std::uint64_t acked_ = 0;
  WriteHandler pending_done_;
  RoomHandler pending_room_;
  std::size_t pending_room_max_ = 0;
  std::size_t reserved_ = 0;
  BudgetShare share_;
};

}  // namespace xts::net
