#include "testserver/net/h1_connection.h"

#include <span>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "testserver/net/request_target.h"
#include "testserver/net/response_headers.h"

namespace xts::net {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

bool is_disconnect(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == asio::error::broken_pipe ||
         ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated;
}

std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

Bytes to_bytes(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

std::string serialize_head(int status, const Headers& headers) {
  std::string head = fmt::format("HTTP/1.1 {} {}\r\n", status, reason_phrase(status));
  for (const auto& h : headers) {
    if (is_transport_owned_header(h.name)) continue;
    // A CR or LF in a value would split the response: drop such a header rather than send it.
    if (h.value.find_first_of("\r\n") != std::string::npos ||
        h.name.find_first_of("\r\n: ") != std::string::npos) {
      continue;
    }
    head += h.name;
    head += ": ";
    head += h.value;
    head += "\r\n";
  }
  return head;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// H1Exchange: forwards to its connection while attached; harmless afterwards.

template <class Stream>
H1Exchange<Stream>::H1Exchange(std::shared_ptr<H1Connection<Stream>> connection, Request request)
    : connection_(std::move(connection)),
      executor_(connection_->executor()),
      request_(std::move(request)) {}

template <class Stream>
void H1Exchange<Stream>::read_body(BodyHandler handler) {
  if (connection_) return connection_->read_body(std::move(handler));
  asio::post(executor_, [handler = std::move(handler)] {
    handler({}, false, asio::error::operation_aborted);
  });
}

template <class Stream>
void H1Exchange<Stream>::send_interim(int status, const Headers& headers) {
  if (connection_) connection_->send_interim(status, headers);
}

template <class Stream>
void H1Exchange<Stream>::send_response_head(int status, const Headers& headers,
                                            std::optional<std::uint64_t> content_length) {
  if (connection_) connection_->send_response_head(status, headers, content_length);
}

template <class Stream>
void H1Exchange<Stream>::await_room(std::size_t max, RoomHandler ready) {
  if (connection_) return connection_->await_room(max, std::move(ready));
  asio::post(executor_, [ready = std::move(ready)] { ready(0, asio::error::operation_aborted); });
}

template <class Stream>
void H1Exchange<Stream>::write_body(Bytes data, WriteHandler done) {
  if (connection_) return connection_->write_body(std::move(data), std::move(done));
  asio::post(executor_, [done = std::move(done)] { done(asio::error::operation_aborted); });
}

template <class Stream>
void H1Exchange<Stream>::finish() {
  if (connection_) connection_->finish();
}

template <class Stream>
void H1Exchange<Stream>::abort_reset() {
  closed_ = true;
  if (connection_) connection_->abort(true);
}

template <class Stream>
void H1Exchange<Stream>::abort_close() {
  closed_ = true;
  if (connection_) connection_->abort(false);
}

// ---------------------------------------------------------------------------------------------
// H1Connection: request side.

template <class Stream>
H1Connection<Stream>::H1Connection(Stream stream, std::string_view initial,
                                   std::shared_ptr<const ConnectionContext> ctx, std::string scheme)
    : stream_(std::move(stream)),
      ctx_(std::move(ctx)),
      scheme_(std::move(scheme)),
      peer_(peer_string(tcp_socket(stream_))),
      read_timer_(stream_.get_executor()),
      write_timer_(stream_.get_executor()),
      share_(nullptr, ctx_->server_budget.get()) {
  if (!initial.empty()) {
    auto space = buffer_.prepare(initial.size());
    asio::buffer_copy(space, asio::buffer(initial));
    buffer_.commit(initial.size());
  }
}

template <class Stream>
H1Connection<Stream>::~H1Connection() {
  if (registry_id_ != 0 && ctx_->registry != nullptr) ctx_->registry->remove(registry_id_);
}

template <class Stream>
void H1Connection<Stream>::start() {
  if (ctx_->registry != nullptr) registry_id_ = ctx_->registry->add(this->weak_from_this());
  read_next_request();
}

template <class Stream>
void H1Connection<Stream>::stop() {
  close();
}

template <class Stream>
void H1Connection<Stream>::arm(asio::steady_timer& timer, std::chrono::milliseconds after) {
  timer.expires_after(after);
  timer.async_wait([weak = this->weak_from_this(), &timer](error_code ec) {
    auto self = weak.lock();
    // A timer re-armed after it fired still reports success: check the deadline really passed.
    if (!self || ec || timer.expiry() > asio::steady_timer::clock_type::now()) return;
    spdlog::debug("h1 {}: timeout, closing", self->peer_);
    self->close();
  });
}

template <class Stream>
void H1Connection<Stream>::read_next_request() {
  response_started_ = continue_sent_ = no_body_ = chunked_ = keep_alive_ = finished_ = false;
  expected_body_.reset();
  body_sent_ = 0;
  after_drain_ = AfterDrain::Nothing;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(ctx_->limits.max_header_bytes));
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  if (buffer_.size() == 0) {
    await_first_byte();
  } else {
    read_header();
  }
}

template <class Stream>
void H1Connection<Stream>::await_first_byte() {
  arm(read_timer_, ctx_->limits.idle_timeout);
  reading_ = true;
  stream_.async_read_some(buffer_.prepare(16 * 1024),
                          [self = this->shared_from_this()](error_code ec, std::size_t n) {
                            self->reading_ = false;
                            self->read_timer_.cancel();
                            if (self->closed_) return;
                            if (ec) return self->close();
                            self->buffer_.commit(n);
                            self->read_header();
                          });
}

template <class Stream>
void H1Connection<Stream>::read_header() {
  arm(read_timer_, ctx_->limits.header_timeout);
  reading_ = true;
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = this->shared_from_this()](error_code ec, std::size_t) {
                            self->reading_ = false;
                            self->read_timer_.cancel();
                            if (self->closed_) return;
                            self->on_header(ec);
                          });
}

template <class Stream>
void H1Connection<Stream>::on_header(error_code ec) {
  if (ec == http::error::header_limit) return reply_error(431);
  if (ec && is_disconnect(ec)) return close();
  if (ec) {
    spdlog::debug("h1 {}: bad request: {}", peer_, ec.message());
    return reply_error(400);
  }
  std::size_t fields = 0;
  for (auto it = parser_->get().begin(); it != parser_->get().end(); ++it) ++fields;
  if (fields > ctx_->limits.max_header_count) return reply_error(431);
  if (parser_->get().version() != 11 && parser_->get().version() != 10) return reply_error(505);

  auto self = this->shared_from_this();
  exchange_ = std::make_shared<H1Exchange<Stream>>(self, make_request());
  auto exchange = exchange_;
  try {
    ctx_->handler(std::move(exchange));
  } catch (const std::exception& e) {
    spdlog::error("h1 {}: handler threw: {}", peer_, e.what());
    close();
  }
}

template <class Stream>
Request H1Connection<Stream>::make_request() {
  const auto& msg = parser_->get();
  Request request;
  request.method = std::string(msg.method_string());
  request.target = std::string(msg.target());
  auto split = split_request_target(request.target);
  request.path = std::move(split.path);
  request.query = std::move(split.query);
  request.protocol = msg.version() == 10 ? "http/1.0" : "http/1.1";
  request.scheme = scheme_;
  request.peer = peer_;
  for (const auto& field : msg) {
    request.headers.push_back({to_lower(sv(field.name_string())), std::string(sv(field.value()))});
  }
  if (const auto* host = request.header("host")) request.authority = *host;
  // The parser already rejected conflicting or malformed Content-Length fields.
  if (!parser_->chunked()) {
    if (const auto it = msg.find(http::field::content_length); it != msg.end()) {
      request.content_length = parse_uint64(sv(it->value()));
    }
  }
  return request;
}

template <class Stream>
void H1Connection<Stream>::reply_error(int status) {
  spdlog::info("h1 {}: answering {} and closing", peer_, status);
  const auto text = fmt::format("{} {}\n", status, reason_phrase(status));
  enqueue(fmt::format("HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n"
                      "Connection: close\r\n\r\n{}",
                      status, reason_phrase(status), text.size(), text));
  after_drain_ = AfterDrain::CloseFin;
  flush_soon();
}

template <class Stream>
void H1Connection<Stream>::maybe_send_continue() {
  if (continue_sent_ || response_started_ || parser_->get().version() < 11) return;
  const auto expect = parser_->get()[http::field::expect];
  if (to_lower(sv(expect)) != "100-continue") return;
  continue_sent_ = true;
  enqueue(std::string_view("HTTP/1.1 100 Continue\r\n\r\n"));
  flush_soon();
}

template <class Stream>
void H1Connection<Stream>::read_body(Exchange::BodyHandler handler) {
  auto ex = executor();
  if (closed_ || closing_) {
    return asio::post(ex, [h = std::move(handler)] { h({}, false, asio::error::operation_aborted); });
  }
  if (parser_->is_done()) {
    return asio::post(ex, [h = std::move(handler)] { h({}, true, {}); });
  }
  if (reading_) {
    return asio::post(ex, [h = std::move(handler)] { h({}, false, asio::error::in_progress); });
  }
  maybe_send_continue();
  read_body_some(std::move(handler));
}

template <class Stream>
void H1Connection<Stream>::read_body_some(Exchange::BodyHandler handler) {
  body_buf_.resize(kBodyChunk);
  // Beast reads at most the read buffer's free capacity per system call: left at the 16 KiB
  // the head needed, a client writing 64 KiB at a time (curl) was drained 14 KB per wake-up.
  buffer_.reserve(kBodyChunk);
  auto& body = parser_->get().body();
  body.data = body_buf_.data();
  body.size = body_buf_.size();
  body.more = true;
  arm(read_timer_, ctx_->limits.io_timeout);
  reading_ = true;
  http::async_read_some(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this(), h = std::move(handler)](error_code ec, std::size_t) mutable {
        self->reading_ = false;
        self->read_timer_.cancel();
        if (ec == http::error::need_buffer) ec = {};
        if (self->closed_ || self->closing_) {
          if (self->closing_ && !self->closed_) self->drain_input();
          return h({}, false, ec ? ec : asio::error::operation_aborted);
        }
        if (ec) {
          spdlog::debug("h1 {}: body read failed: {}", self->peer_, ec.message());
          self->close();
          return h({}, false, ec);
        }
        const std::size_t got = self->body_buf_.size() - self->parser_->get().body().size;
        if (got == 0) {
          if (self->parser_->is_done()) return h({}, true, {});
          return self->read_body_some(std::move(h));
        }
        h(std::span<const std::uint8_t>(self->body_buf_.data(), got), false, {});
      });
}

// ---------------------------------------------------------------------------------------------
// Response side.

template <class Stream>
void H1Connection<Stream>::send_interim(int status, const Headers& headers) {
  if (closed_ || closing_ || response_started_ || status < 100 || status > 199) return;
  enqueue(serialize_head(status, headers) + "\r\n");
  flush_soon();
}

template <class Stream>
void H1Connection<Stream>::send_response_head(int status, const Headers& headers,
                                              std::optional<std::uint64_t> length) {
  if (closed_ || closing_ || response_started_) return;
  response_started_ = true;
  const auto& msg = parser_->get();
  if (!length) length = content_length_from(headers);
  const bool head_request = msg.method() == http::verb::head;
  const bool bodiless_status = status == 204 || status == 304 || status < 200;
  no_body_ = head_request || bodiless_status;
  chunked_ = !no_body_ && !length && msg.version() >= 11;
  // Unread request body: the connection cannot be reused (it ends after the response).
  keep_alive_ = msg.keep_alive() && parser_->is_done() && (no_body_ || length || chunked_);
  expected_body_ = no_body_ ? std::optional<std::uint64_t>(0) : length;

  auto head = serialize_head(status, headers);
  if (length && !bodiless_status) head += fmt::format("Content-Length: {}\r\n", *length);
  if (chunked_) head += "Transfer-Encoding: chunked\r\n";
  if (kIsTls<Stream> && !ctx_->alt_svc.empty()) head += fmt::format("Alt-Svc: {}\r\n", ctx_->alt_svc);
  if (!keep_alive_) {
    head += "Connection: close\r\n";
  } else if (msg.version() == 10) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
  enqueue(head);
  flush_soon();
}

template <class Stream>
void H1Connection<Stream>::await_room(std::size_t max, Exchange::RoomHandler ready) {
  if (closed_ || closing_ || !response_started_ || finished_ || no_body_) {
    return asio::post(executor(), [h = std::move(ready)] { h(0, asio::error::operation_aborted); });
  }
  if (pending_room_) {
    return asio::post(executor(), [h = std::move(ready)] { h(0, asio::error::in_progress); });
  }
  reserved_ = 0;
  account();
  pending_room_ = std::move(ready);
  pending_room_max_ = std::max<std::size_t>(max, 1);
  recheck_room();
}

template <class Stream>
void H1Connection<Stream>::recheck_room() {
  if (!pending_room_ || closed_) return;
  auto* server = share_.server();
  std::size_t room = queued_bytes_ < kResponseHighWater ? kResponseHighWater - queued_bytes_ : 0;
  if (server != nullptr) room = std::min(room, server->room());
  room = std::min(room, pending_room_max_);
  if (room == 0) {
    // Our own queue: the write completion looks again; the server's budget wakes us.
    if (server != nullptr && server->room() == 0) server->wait(this->shared_from_this());
    return;
  }
  reserved_ = room;
  account();
  asio::post(executor(), [h = std::move(pending_room_), room] { h(room, {}); });
  pending_room_ = nullptr;
}

template <class Stream>
void H1Connection<Stream>::write_body(Bytes data, Exchange::WriteHandler done) {
  reserved_ = 0;  // the room granted is now this chunk (enqueue accounts for it)
  if (closed_ || closing_ || !response_started_ || finished_) {
    account();
    return asio::post(executor(), [d = std::move(done)] { d(asio::error::operation_aborted); });
  }
  if (!no_body_ && !data.empty()) {
    body_sent_ += data.size();
    if (chunked_) {
      enqueue(fmt::format("{:x}\r\n", data.size()));
      enqueue(std::move(data));
      enqueue(std::string_view("\r\n"));
    } else {
      enqueue(std::move(data));
    }
  }
  if (queued_bytes_ < kResponseHighWater) {
    asio::post(executor(), [d = std::move(done)] { d({}); });
  } else {
    pending_done_ = std::move(done);
  }
  flush_soon();
}

template <class Stream>
void H1Connection<Stream>::finish() {
  if (closed_ || closing_ || finished_) return;
  if (!response_started_) send_response_head(500, {}, 0);
  finished_ = true;
  reserved_ = 0;
  account();
  if (chunked_) enqueue(std::string_view("0\r\n\r\n"));
  if (expected_body_ && body_sent_ != *expected_body_) {
    spdlog::warn("h1 {}: response body was {} bytes, announced {}", peer_, body_sent_, *expected_body_);
    keep_alive_ = false;
  }
  after_drain_ = keep_alive_ ? AfterDrain::NextRequest : AfterDrain::CloseFin;
  detach_exchange(false);
  flush_soon();
}

template <class Stream>
void H1Connection<Stream>::abort(bool reset) {
  if (closed_ || closing_) return;
  auto keep_alive = this->shared_from_this();  // detaching the exchange may drop the last owner
  spdlog::debug("h1 {}: abort ({})", peer_, reset ? "reset" : "close");
  after_drain_ = reset ? AfterDrain::Reset : AfterDrain::CloseFin;
  detach_exchange(true);
  flush_soon();
}

template <class Stream>
void H1Connection<Stream>::detach_exchange(bool closed) {
  if (!exchange_) return;
  exchange_->detach(closed);
  exchange_.reset();
}

// ---------------------------------------------------------------------------------------------
// Output queue.

template <class Stream>
void H1Connection<Stream>::enqueue(Bytes bytes) {
  queued_bytes_ += bytes.size();
  queue_.push_back(std::move(bytes));
  account();
}

template <class Stream>
void H1Connection<Stream>::enqueue(std::string_view text) {
  enqueue(to_bytes(text));
}

template <class Stream>
void H1Connection<Stream>::flush_soon() {
  // Posted, so a head and the first body chunk given in one handler turn share one write.
  if (flush_posted_ || writing_ || closed_) return;
  flush_posted_ = true;
  asio::post(executor(), [self = this->shared_from_this()] {
    self->flush_posted_ = false;
    self->flush();
  });
}

template <class Stream>
void H1Connection<Stream>::flush() {
  if (writing_ || closed_) return;
  if (queue_.empty()) return on_drained();
  std::size_t batch = 0;
  while (!queue_.empty() && (batch == 0 || batch + queue_.front().size() <= kWriteBatch)) {
    batch += queue_.front().size();
    inflight_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  std::vector<asio::const_buffer> buffers;
  if (kIsTls<Stream> && inflight_.size() > 1) {
    // Asio's TLS stream writes one buffer at a time: small pieces would become small records.
    coalesced_.clear();
    coalesced_.reserve(batch);
    for (const auto& piece : inflight_) coalesced_.insert(coalesced_.end(), piece.begin(), piece.end());
    buffers.emplace_back(coalesced_.data(), coalesced_.size());
  } else {
    for (const auto& piece : inflight_) buffers.emplace_back(piece.data(), piece.size());
  }
  writing_ = true;
  arm(write_timer_, ctx_->limits.io_timeout);
  asio::async_write(stream_, buffers,
                    [self = this->shared_from_this(), batch](error_code ec, std::size_t) {
                      self->writing_ = false;
                      self->write_timer_.cancel();
                      self->inflight_.clear();
                      self->queued_bytes_ -= batch;
                      self->account();
                      if (ec) {
                        if (!is_disconnect(ec)) spdlog::debug("h1 {}: write: {}", self->peer_, ec.message());
                        return self->close();
                      }
                      if (self->pending_done_ && self->queued_bytes_ < kResponseHighWater) {
                        auto done = std::move(self->pending_done_);
                        self->pending_done_ = nullptr;
                        done({});
                      }
                      self->recheck_room();
                      self->flush();
                    });
}

template <class Stream>
void H1Connection<Stream>::on_drained() {
  const auto after = after_drain_;
  after_drain_ = AfterDrain::Nothing;
  switch (after) {
    case AfterDrain::Nothing: return;
    case AfterDrain::NextRequest: return read_next_request();
    case AfterDrain::CloseFin: return close_with_fin();
    case AfterDrain::Reset: return reset_when_acknowledged(100);
  }
}

template <class Stream>
void H1Connection<Stream>::close_with_fin() {
  // FIN after everything written, then read (and drop) what the peer still sends, so unread
  // request bytes do not turn our close into a RST that could destroy the response in flight.
  closing_ = true;
  error_code ec;
  tcp_socket(stream_).shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  arm(read_timer_, std::chrono::milliseconds(2000));
  if (!reading_) drain_input();
}

template <class Stream>
void H1Connection<Stream>::drain_input() {
  reading_ = true;
  tcp_socket(stream_).async_read_some(
      asio::buffer(discard_), [self = this->shared_from_this()](error_code ec, std::size_t) {
        self->reading_ = false;
        if (ec || self->closed_) return self->close();
        self->drain_input();
      });
}

template <class Stream>
void H1Connection<Stream>::reset_when_acknowledged(int polls_left) {
  // The RST discards unacknowledged data in the kernel; wait (bounded) until the peer has the
  // bytes the handler wrote, so "reset after N bytes" really delivers N bytes.
  if (closed_) return;
  if (polls_left > 0 && unsent_bytes(tcp_socket(stream_)) > 0) {
    write_timer_.expires_after(std::chrono::milliseconds(5));
    write_timer_.async_wait([self = this->shared_from_this(), polls_left](error_code ec) {
      if (ec) return;
      self->reset_when_acknowledged(polls_left - 1);
    });
    return;
  }
  reset_socket(tcp_socket(stream_));
  close();
}

template <class Stream>
void H1Connection<Stream>::close() {
  if (closed_) return;
  closed_ = true;
  read_timer_.cancel();
  write_timer_.cancel();
  error_code ec;
  tcp_socket(stream_).close(ec);
  detach_exchange(true);
  if (pending_done_) {
    auto done = std::move(pending_done_);
    pending_done_ = nullptr;
    asio::post(executor(), [done = std::move(done)] { done(asio::error::operation_aborted); });
  }
  if (pending_room_) {
    asio::post(executor(), [h = std::move(pending_room_)] { h(0, asio::error::operation_aborted); });
    pending_room_ = nullptr;
  }
  // Queued output will never be written: free it and give its budget back (the batch in
  // flight is the write's until its completion, which releases it).
  for (const auto& piece : queue_) queued_bytes_ -= piece.size();
  queue_.clear();
  reserved_ = 0;
  account();
  if (registry_id_ != 0 && ctx_->registry != nullptr) ctx_->registry->remove(registry_id_);
  registry_id_ = 0;
}

template class H1Connection<PlainStream>;
template class H1Connection<TlsStream>;
template class H1Exchange<PlainStream>;
template class H1Exchange<TlsStream>;

}  // namespace xts::net
