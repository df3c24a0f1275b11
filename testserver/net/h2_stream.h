// H2Stream: the Exchange of one HTTP/2 request stream, and H2Session, the little it needs from
// its connection. The stream buffers received DATA (bounded by the stream window, since
// bytes are only consumed when the handler pulls them) and queued response bytes, and feeds
// nghttp2's deferred data provider. Queued response bytes stay within the peer's send window
// (stream and connection: await_room grants no more), kResponseHighWater, and the connection's
// and server's ResponseBudgets; they are released when the stream closes. Every handler
// callback is posted, never run inside an nghttp2 call.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nghttp2/nghttp2.h>

#include <boost/asio/any_io_executor.hpp>

#include "testserver/exchange.h"
#include "testserver/net/limits.h"
#include "testserver/net/stream_fields.h"
#include "testserver/net/response_budget.h"

namespace xts::net {

class H2Session {
 public:
  virtual ~H2Session() = default;
  virtual nghttp2_session* session() = 0;
  virtual boost::asio::any_io_executor executor() = 0;
  virtual void schedule_write() = 0;
  // GOAWAY with this code, then the connection ends once it is flushed.
  virtual void terminate(std::uint32_t error_code) = 0;
  // The connection is closed; the session must not be touched.
  virtual bool gone() const = 0;
  // RST_STREAM for `stream_id` once every byte produced so far went to the socket (in a later
  // write than the stream's last DATA), so the peer reads the DATA before it sees the reset.
  virtual void reset_after_flush(std::int32_t stream_id, std::uint32_t error_code) = 0;
  // Response bytes held by this connection's streams, and by the whole server (may be null).
  virtual ResponseBudget& connection_budget() = 0;
  virtual ResponseBudget* server_budget() = 0;
  // Streams waiting for room should look again (a window or the connection's share changed).
  virtual void schedule_room_check() = 0;
  // Alt-Svc value for final responses ("" = none).
  virtual const std::string& alt_svc() const = 0;
};

class H2Stream final : public Exchange,
                       public ResponseBudget::Waiter,
                       public std::enable_shared_from_this<H2Stream> {
 public:
  H2Stream(std::shared_ptr<H2Session> session, std::int32_t id, Request base);

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

  // Connection side; all run inside nghttp2 callbacks or on close.
  std::int32_t id() const { return id_; }
  void add_header(std::string_view name, std::string_view value, const TransportLimits& limits);
  bool too_large() const { return fields_.too_large(); }
  // Headers are complete: fills path/query. False if the request is unusable.
  bool complete_headers();
  bool dispatched() const { return dispatched_; }
  void set_dispatched() { dispatched_ = true; }
  std::chrono::steady_clock::time_point created() const { return created_; }
  void on_data(const std::uint8_t* data, std::size_t len);
  void on_end_of_request();
  bool request_ended() const { return request_eof_; }
  bool response_ended() const { return response_sent_; }
  void set_response_ended() { response_sent_ = true; }
  std::uint64_t unconsumed() const { return received_ - consumed_; }
  void on_closed(std::uint32_t error_code);
  // Answers without involving the handler (431 for oversized headers).
  void reject(int status);
  // nghttp2 data provider and NO_COPY send: see h2_stream.cpp.
  ssize_t read_data(std::size_t length, std::uint32_t* flags);
  void copy_out(std::size_t length, std::vector<std::uint8_t>& out);
  // Called on the connection's tick. True once the response has had bytes (or its end) ready
  // while the peer kept the send window (stream or connection) at zero for `limit` without
  // any DATA going out in between: the peer stopped reading, not the handler.
  bool stuck_on_window(std::chrono::steady_clock::time_point now, std::chrono::milliseconds limit);
  // Grants a pending await_room if there is room now (else waits on what is missing).
  void recheck_room();
  bool awaiting_room() const { return pending_room_ != nullptr; }
  void on_budget_room() override { recheck_room(); }

 private:
  enum class Abort { None, Reset, Close };
  bool usable() const { return !closed_ && usable_session(); }
  // The nghttp2 session may still be used for this stream (also after abort_*()).
  bool usable_session() const { return session_ && !session_->gone(); }
  void deliver_soon();
  void deliver();
  void fail_pending();
  void resume();
  // Moves the budgets to what the stream holds now; `sent`: the drop is bytes that went out.
  void account(bool sent = false);

  std::shared_ptr<H2Session> session_;
  boost::asio::any_io_executor executor_;
  std::int32_t id_;
  Request request_;
  RequestFields fields_{request_};  // folds the header block into request_
  std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  bool dispatched_ = false;
  bool closed_ = false;         // what closed() reports: peer gone or aborted
  bool stream_closed_ = false;  // nghttp2 closed the stream

  // Request body.
  // Received DATA is appended to in_buf_; a read takes all of it by swapping buffers, so each
  // byte is copied once and the two buffers are reused for the whole body.
  std::vector<std::uint8_t> in_buf_;
  std::vector<std::uint8_t> delivered_;
  std::uint64_t received_ = 0;
  std::uint64_t consumed_ = 0;
  bool request_eof_ = false;
  bool deliver_posted_ = false;
  BodyHandler pending_read_;

  // Response.
  bool head_sent_ = false;
  bool has_provider_ = false;
  bool no_body_ = false;
  bool finished_ = false;
  bool deferred_ = false;
  bool response_sent_ = false;
  Abort abort_ = Abort::None;
  std::deque<Bytes> out_chunks_;
  std::size_t out_offset_ = 0;  // into out_chunks_.front()
  std::size_t out_bytes_ = 0;  // not yet sent
  std::size_t out_alloc_ = 0;  // what out_chunks_ occupy (a chunk stays whole until all of it went out)
  WriteHandler pending_done_;
  RoomHandler pending_room_;
  std::size_t pending_room_max_ = 0;
  std::size_t reserved_ = 0;  // room granted to the handler, not yet written
  BudgetShare share_;
  std::optional<std::chrono::steady_clock::time_point> window_blocked_since_;
};

}  // namespace xts::net
