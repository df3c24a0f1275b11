#include "testserver/net/h2_stream.h"

#include <algorithm>
#include <cstring>
#include <string>

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "testserver/net/request_target.h"
#include "testserver/net/response_headers.h"
#include "testserver/net/stream_fields.h"

namespace xts::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

ssize_t read_callback(nghttp2_session*, std::int32_t, std::uint8_t*, std::size_t length,
                      std::uint32_t* flags, nghttp2_data_source* source, void*) {
  return static_cast<H2Stream*>(source->ptr)->read_data(length, flags);
}

}  // namespace

H2Stream::H2Stream(std::shared_ptr<H2Session> session, std::int32_t id, Request base)
    : session_(std::move(session)),
      executor_(session_->executor()),
      id_(id),
      request_(std::move(base)),
      share_(&session_->connection_budget(), session_->server_budget()) {}

// ---------------------------------------------------------------------------------------------
// Request side.

void H2Stream::add_header(std::string_view name, std::string_view value, const TransportLimits& limits) {
  fields_.add(name, value, limits);
}

bool H2Stream::complete_headers() { return fields_.complete(true); }

void H2Stream::on_data(const std::uint8_t* data, std::size_t len) {
  received_ += len;
  in_buf_.insert(in_buf_.end(), data, data + len);
  if (pending_read_) deliver_soon();
}

void H2Stream::on_end_of_request() {
  request_eof_ = true;
  if (pending_read_) deliver_soon();
}

void H2Stream::on_closed(std::uint32_t error_code) {
  if (stream_closed_) return;
  stream_closed_ = true;
  closed_ = true;
  // A stream the peer reset before the response completed: the handler sees an error.
  if (error_code != NGHTTP2_NO_ERROR || !response_sent_) {
    spdlog::debug("h2 stream {} closed (error {})", id_, error_code);
  }
  fail_pending();
  // Nothing queued can go out any more: give the memory and the budgets back now, not when
  // the handler lets go of the stream.
  std::deque<Bytes>().swap(out_chunks_);
  out_bytes_ = 0;
  out_alloc_ = 0;
  out_offset_ = 0;
  std::vector<std::uint8_t>().swap(delivered_);
  reserved_ = 0;
  const bool held = share_.held() > 0;
  share_.detach();
  if (held && !session_->gone()) session_->schedule_room_check();
  session_.reset();
}

void H2Stream::fail_pending() {
  if (pending_read_) {
    // Body bytes already here, or a complete request, are still delivered.
    if (!in_buf_.empty() || request_eof_) {
      deliver_soon();
    } else {
      asio::post(executor_, [h = std::move(pending_read_)] {
        h({}, false, asio::error::connection_reset);
      });
      pending_read_ = nullptr;
    }
  }
  if (pending_done_) {
    asio::post(executor_, [d = std::move(pending_done_)] { d(asio::error::connection_reset); });
    pending_done_ = nullptr;
  }
  if (pending_room_) {
    asio::post(executor_, [h = std::move(pending_room_)] { h(0, asio::error::connection_reset); });
    pending_room_ = nullptr;
  }
  if (reserved_ > 0) {
    reserved_ = 0;
    account();
  }
}

void H2Stream::read_body(BodyHandler handler) {
  if (pending_read_) {
    asio::post(executor_, [h = std::move(handler)] { h({}, false, asio::error::in_progress); });
    return;
  }
  pending_read_ = std::move(handler);
  deliver_soon();
}

void H2Stream::deliver_soon() {
  if (deliver_posted_) return;
  deliver_posted_ = true;
  asio::post(executor_, [self = shared_from_this()] {
    self->deliver_posted_ = false;
    self->deliver();
  });
}

void H2Stream::deliver() {
  if (!pending_read_) return;
  auto handler = std::move(pending_read_);
  pending_read_ = nullptr;
  if (!in_buf_.empty()) {
    // Everything that arrived (frames are 16 KiB; at most the stream window) as one chunk.
    delivered_.clear();
    delivered_.swap(in_buf_);
    consumed_ += delivered_.size();
    if (usable()) {
      nghttp2_session_consume(session_->session(), id_, delivered_.size());
      session_->schedule_write();
    }
    handler(std::span<const std::uint8_t>(delivered_.data(), delivered_.size()), false, {});
    return;
  }
  if (request_eof_) return handler({}, true, {});
  if (closed_) return handler({}, false, asio::error::connection_reset);
  pending_read_ = std::move(handler);  // wait for DATA
}

// ---------------------------------------------------------------------------------------------
// Response side.

void H2Stream::send_interim(int status, const Headers& headers) {
  if (!usable() || head_sent_ || abort_ != Abort::None || status < 100 || status > 199) return;
  auto nv = response_nv<nghttp2_nv>(status, headers);
  auto* nva = nv.build();
  const int rv = nghttp2_submit_headers(session_->session(), NGHTTP2_FLAG_NONE, id_, nullptr, nva,
                                        nv.size(), nullptr);
  if (rv != 0) spdlog::warn("h2 stream {}: interim {} not sent: {}", id_, status, nghttp2_strerror(rv));
  session_->schedule_write();
}

void H2Stream::send_response_head(int status, const Headers& headers,
                                  std::optional<std::uint64_t> content_length) {
  if (!usable() || head_sent_ || abort_ != Abort::None) return;
  head_sent_ = true;
  if (!content_length) content_length = content_length_from(headers);
  const bool bodiless_status = status == 204 || status == 304 || status < 200;
  no_body_ = request_.method == "HEAD" || bodiless_status || (content_length && *content_length == 0);
  auto nv = response_nv<nghttp2_nv>(status, headers);
  if (content_length && !bodiless_status) nv.add("content-length", std::to_string(*content_length));
  if (const auto& alt = session_->alt_svc(); !alt.empty()) nv.add("alt-svc", alt);
  auto* nva = nv.build();
  nghttp2_data_provider provider{};
  provider.source.ptr = this;
  provider.read_callback = &read_callback;
  has_provider_ = !no_body_;
  const int rv = nghttp2_submit_response(session_->session(), id_, nva, nv.size(),
                                         has_provider_ ? &provider : nullptr);
  if (rv != 0) {
    spdlog::warn("h2 stream {}: response not sent: {}", id_, nghttp2_strerror(rv));
    nghttp2_submit_rst_stream(session_->session(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_INTERNAL_ERROR);
  }
  session_->schedule_write();
}

void H2Stream::account(bool sent) {
  const auto before = share_.held();
  // The memory, not the unsent bytes: a chunk is freed only once all of it went out.
  share_.set(out_alloc_ + reserved_);
  // Bytes that went out (of a chunk still held) leave every stream's room as it was (the
  // windows shrank as much); anything else that lowers the connection's share may let a
  // waiting stream on.
  if (!sent && share_.held() < before && usable_session()) session_->schedule_room_check();
}

void H2Stream::await_room(std::size_t max, RoomHandler ready) {
  if (!usable() || !head_sent_ || finished_ || abort_ != Abort::None || no_body_) {
    asio::post(executor_, [h = std::move(ready)] { h(0, asio::error::operation_aborted); });
    return;
  }
  if (pending_room_) {
    asio::post(executor_, [h = std::move(ready)] { h(0, asio::error::in_progress); });
    return;
  }
  if (reserved_ > 0) {  // granted before and not written: back into the pool first
    reserved_ = 0;
    account();
  }
  pending_room_ = std::move(ready);
  pending_room_max_ = std::max<std::size_t>(max, 1);
  recheck_room();
}

void H2Stream::recheck_room() {
  if (!pending_room_ || !usable()) return;
  auto* s = session_->session();
  auto* conn = share_.connection();
  auto* server = share_.server();
  // What the peer lets out beyond what is queued already: the stream's window (capped per
  // stream) less this stream's unsent bytes, the connection's window less what all its
  // streams hold (conservative: a chunk counts until all of it went out).
  const std::int64_t stream_window = nghttp2_session_get_stream_remote_window_size(s, id_);
  const std::int64_t conn_window = nghttp2_session_get_remote_window_size(s);
  const auto stream_cap = std::min<std::int64_t>(stream_window, static_cast<std::int64_t>(kResponseHighWater));
  std::int64_t room = std::min(stream_cap - static_cast<std::int64_t>(out_bytes_),
                               conn_window - static_cast<std::int64_t>(conn != nullptr ? conn->used() : out_bytes_));
  if (conn != nullptr) room = std::min<std::int64_t>(room, static_cast<std::int64_t>(conn->room()));
  if (server != nullptr) room = std::min<std::int64_t>(room, static_cast<std::int64_t>(server->room()));
  room = std::min<std::int64_t>(room, static_cast<std::int64_t>(pending_room_max_));
  if (room <= 0) {
    // The windows: the connection looks again on WINDOW_UPDATE, SETTINGS and when a stream
    // lets go of bytes; our own queue: copy_out looks again; the budgets wake their waiters.
    auto self = shared_from_this();
    if (conn != nullptr && conn->room() == 0) conn->wait(self);
    if (server != nullptr && server->room() == 0) server->wait(self);
    return;
  }
  reserved_ = static_cast<std::size_t>(room);
  account();
  asio::post(executor_, [h = std::move(pending_room_), n = reserved_] { h(n, {}); });
  pending_room_ = nullptr;
}

void H2Stream::write_body(Bytes data, WriteHandler done) {
  reserved_ = 0;  // the room granted is now this chunk (accounted below)
  if (!usable() || !head_sent_ || finished_ || abort_ != Abort::None) {
    account();
    asio::post(executor_, [d = std::move(done)] { d(asio::error::operation_aborted); });
    return;
  }
  if (!no_body_ && !data.empty()) {
    out_bytes_ += data.size();
    out_alloc_ += data.size();
    out_chunks_.push_back(std::move(data));
    resume();
  }
  account();
  if (out_bytes_ < kResponseHighWater) {
    asio::post(executor_, [d = std::move(done)] { d({}); });
  } else {
    pending_done_ = std::move(done);
  }
}

void H2Stream::finish() {
  if (!usable() || finished_) return;
  if (!head_sent_) send_response_head(500, {}, 0);
  finished_ = true;
  if (reserved_ > 0) {
    reserved_ = 0;
    account();
  }
  resume();
}

void H2Stream::abort_reset() {
  if (!usable() || abort_ != Abort::None) return;
  abort_ = Abort::Reset;
  if (!has_provider_ || out_bytes_ == 0) {
    nghttp2_submit_rst_stream(session_->session(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_INTERNAL_ERROR);
    session_->schedule_write();
  } else {
    resume();  // the data provider resets the stream once the queued bytes are out
  }
  fail_pending();
  closed_ = true;
}

void H2Stream::abort_close() {
  if (!usable() || abort_ != Abort::None) return;
  abort_ = Abort::Close;
  if (!has_provider_ || out_bytes_ == 0) {
    session_->terminate(NGHTTP2_NO_ERROR);
  } else {
    resume();  // the data provider asks for GOAWAY once the queued bytes are out
  }
  fail_pending();
  closed_ = true;
}

void H2Stream::reject(int status) {
  head_sent_ = true;
  no_body_ = true;
  finished_ = true;
  NvList<nghttp2_nv> nv;
  nv.add(":status", std::to_string(status));
  nv.add("content-length", "0");
  auto* nva = nv.build();
  nghttp2_submit_response(session_->session(), id_, nva, nv.size(), nullptr);
}

void H2Stream::resume() {
  if (!deferred_ || !session_ || session_->gone()) {
    if (session_ && !session_->gone()) session_->schedule_write();
    return;
  }
  deferred_ = false;
  nghttp2_session_resume_data(session_->session(), id_);
  session_->schedule_write();
}

// Data provider. Returns how many queued bytes the next DATA frame carries (NO_COPY: copy_out
// writes them straight into the connection's outgoing batch), defers when the handler has not
// supplied more yet, and turns a pending abort into RST_STREAM or GOAWAY once the bytes the
// handler wrote before aborting are out.
ssize_t H2Stream::read_data(std::size_t length, std::uint32_t* flags) {
  if (out_bytes_ == 0) {
    if (abort_ == Abort::Reset) {
      // Not TEMPORAL_CALLBACK_FAILURE: that puts RST_STREAM in the same write as the last DATA,
      // and a client that sees both in one read (curl) may drop the DATA it has not delivered.
      deferred_ = true;
      session_->reset_after_flush(id_, NGHTTP2_INTERNAL_ERROR);
      return NGHTTP2_ERR_DEFERRED;
    }
    if (abort_ == Abort::Close) {
      deferred_ = true;
      asio::post(executor_, [session = session_] {
        if (!session->gone()) session->terminate(NGHTTP2_NO_ERROR);
      });
      return NGHTTP2_ERR_DEFERRED;
    }
    if (finished_) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return 0;
    }
    deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  const std::size_t n = std::min(length, out_bytes_);
  *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (finished_ && n == out_bytes_ && abort_ == Abort::None) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

void H2Stream::copy_out(std::size_t length, std::vector<std::uint8_t>& out) {
  bool freed = false;
  while (length > 0 && !out_chunks_.empty()) {
    auto& front = out_chunks_.front();
    const std::size_t take = std::min(length, front.size() - out_offset_);
    out.insert(out.end(), front.begin() + static_cast<std::ptrdiff_t>(out_offset_),
               front.begin() + static_cast<std::ptrdiff_t>(out_offset_ + take));
    out_offset_ += take;
    out_bytes_ -= take;
    length -= take;
    if (out_offset_ == front.size()) {
      out_alloc_ -= front.size();
      out_chunks_.pop_front();
      out_offset_ = 0;
      freed = true;
    }
  }
  window_blocked_since_.reset();  // DATA went out: progress
  // A freed chunk returns more to the connection's share than the window lost: others may go on.
  account(/*sent=*/!freed);
  if (pending_done_ && out_bytes_ < kResponseHighWater) {
    asio::post(executor_, [d = std::move(pending_done_)] { d({}); });
    pending_done_ = nullptr;
  }
  if (pending_room_) recheck_room();  // below the per-stream cap again
}

bool H2Stream::stuck_on_window(std::chrono::steady_clock::time_point now, std::chrono::milliseconds limit) {
  // Only a response with something to send counts: a handler that is slow (stall= faults) or
  // a stream waiting for request DATA is not the peer's flow control.
  const bool ready = has_provider_ && !response_sent_ && !stream_closed_ &&
                     (out_bytes_ > 0 || finished_ || pending_room_ != nullptr);
  if (!ready || !usable_session()) {
    window_blocked_since_.reset();
    return false;
  }
  auto* s = session_->session();
  const bool blocked = nghttp2_session_get_stream_remote_window_size(s, id_) <= 0 ||
                       nghttp2_session_get_remote_window_size(s) <= 0;
  if (!blocked) {
    window_blocked_since_.reset();
    return false;
  }
  if (!window_blocked_since_) window_blocked_since_ = now;
  if (now - *window_blocked_since_ < limit) return false;
  window_blocked_since_ = now;  // one reset per limit, not one per tick until it is flushed
  return true;
}

}  // namespace xts::net
