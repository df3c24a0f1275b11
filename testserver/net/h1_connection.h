// H1Connection: one HTTP/1.1 connection (plain or TLS) driven by Boost.Beast. Requests are
// served one at a time (keep-alive, no pipelining overlap): the header is read first with a
// buffer_body parser, the handler gets an Exchange at once, and the body is only pulled from
// the socket as the handler calls read_body — so a 104 can go out before any body byte is
// read and a slow handler slows the sender (TCP flow control).
//
// Promises: at most one socket read and one socket write in flight; a header that is too big
// or has too many fields gets 431, a malformed one 400, a slow one is cut off after
// limits.header_timeout; abort_reset ends in a TCP RST, abort_close in a FIN after flushing.
// Queued output counts against the server's ResponseBudget; await_room grants no more than
// kResponseHighWater per connection and what that budget has left.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "testserver/exchange.h"
#include "testserver/net/connection.h"
#include "testserver/net/connection_context.h"
#include "testserver/net/response_budget.h"
#include "testserver/net/streams.h"

namespace xts::net {

template <class Stream>
class H1Exchange;

template <class Stream>
class H1Connection final : public Connection,
                           public ResponseBudget::Waiter,
                           public std::enable_shared_from_this<H1Connection<Stream>> {
 public:
  // `initial` holds bytes already read from the socket (the plain listener's protocol sniff).
  H1Connection(Stream stream, std::string_view initial, std::shared_ptr<const ConnectionContext> ctx,
               std::string scheme);
  ~H1Connection() override;

  void start();
  void stop() override;

  // Called by H1Exchange (only while it is the current exchange).
  boost::asio::any_io_executor executor() { return stream_.get_executor(); }
  void read_body(Exchange::BodyHandler handler);
  void send_interim(int status, const Headers& headers);
  void send_response_head(int status, const Headers& headers, std::optional<std::uint64_t> length);
  void await_room(std::size_t max, Exchange::RoomHandler ready);
  void write_body(Bytes data, Exchange::WriteHandler done);
  void finish();
  void abort(bool reset);

  void on_budget_room() override { recheck_room(); }

 private:
  enum class AfterDrain { Nothing, NextRequest, CloseFin, Reset };
  using Parser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;

  void read_next_request();
  void await_first_byte();
  void read_header();
  void on_header(boost::system::error_code ec);
  Request make_request();
  void reply_error(int status);
  void maybe_send_continue();
  void read_body_some(Exchange::BodyHandler handler);

  void recheck_room();
  void account() { share_.set(queued_bytes_ + reserved_); }

  void enqueue(Bytes bytes);
  void enqueue(std::string_view text);
  void flush_soon();
  void flush();
  void on_drained();
  void close_with_fin();
  void drain_input();
  void reset_when_acknowledged(int polls_left);
  void close();
  void detach_exchange(bool closed);

  void arm(boost::asio::steady_timer& timer, std::chrono::milliseconds after);

  Stream stream_;
  std::shared_ptr<const ConnectionContext> ctx_;
  std::string scheme_;
  std::string peer_;
  std::uint64_t registry_id_ = 0;

  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  std::vector<std::uint8_t> body_buf_;
  boost::asio::steady_timer read_timer_;
  boost::asio::steady_timer write_timer_;
  std::shared_ptr<H1Exchange<Stream>> exchange_;
  bool reading_ = false;
  bool closing_ = false;  // FIN sent or about to be; reads only drain
  bool closed_ = false;

  // The response in progress.
  bool response_started_ = false;
  bool continue_sent_ = false;
  bool no_body_ = false;
  bool chunked_ = false;
  bool keep_alive_ = false;
  bool finished_ = false;
  std::optional<std::uint64_t> expected_body_;
  std::uint64_t body_sent_ = 0;

  // Output: queued buffers, the batch being written, the one write_body completion held back
  // while more than kResponseHighWater bytes are queued.
  std::deque<Bytes> queue_;
  std::vector<Bytes> inflight_;
  std::vector<std::uint8_t> coalesced_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool flush_posted_ = false;
  Exchange::WriteHandler pending_done_;
  Exchange::RoomHandler pending_room_;
  std::size_t pending_room_max_ = 0;
  std::size_t reserved_ = 0;  // room granted to the handler, not yet written
  BudgetShare share_;
  AfterDrain after_drain_ = AfterDrain::Nothing;
  std::array<std::uint8_t, 4096> discard_{};
};

template <class Stream>
class H1Exchange final : public Exchange {
 public:
  H1Exchange(std::shared_ptr<H1Connection<Stream>> connection, Request request);

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

  // The connection is done with this exchange (response finished, or connection gone).
  void detach(bool closed) {
    connection_.reset();
    if (closed) closed_ = true;
  }

 private:
  std::shared_ptr<H1Connection<Stream>> connection_;
  boost::asio::any_io_executor executor_;
  Request request_;
  bool closed_ = false;
};

extern template class H1Connection<PlainStream>;
extern template class H1Connection<TlsStream>;
extern template class H1Exchange<PlainStream>;
extern template class H1Exchange<TlsStream>;

}  // namespace xts::net
