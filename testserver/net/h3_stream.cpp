#include "testserver/net/h3_stream.h"

#include <algorithm>
#include <string>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "testserver/net/request_target.h"
#include "testserver/net/response_headers.h"
#include "testserver/net/stream_fields.h"

namespace xts::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

nghttp3_ssize read_callback(nghttp3_conn*, std::int64_t, nghttp3_vec* vec, std::size_t veccnt,
                            std::uint32_t* flags, void*, void* stream_user_data) {
  if (stream_user_data == nullptr) {
    *flags |= NGHTTP3_DATA_FLAG_EOF;
    return 0;
  }
  return static_cast<H3Stream*>(stream_user_data)->read_data(vec, veccnt, flags);
}

}  // namespace

H3Stream::H3Stream(std::shared_ptr<H3Session> session, std::int64_t id, Request base)
    : session_(std::move(session)),
      executor_(session_->executor()),
      id_(id),
      request_(std::move(base)),
      share_(&session_->connection_budget(), session_->server_budget()) {}

// ---------------------------------------------------------------------------------------------
// Request side.

void H3Stream::add_header(std::string_view name, std::string_view value, const TransportLimits& limits) {
  fields_.add(name, value, limits);
}

bool H3Stream::complete_headers() { return fields_.complete(false); }

void H3Stream::on_data(const std::uint8_t* data, std::size_t len) {
  received_ += len;
  in_buf_.insert(in_buf_.end(), data, data + len);
  if (pending_read_) deliver_soon();
}

void H3Stream::on_end_of_request() {
  request_eof_ = true;
  if (pending_read_) deliver_soon();
}

void H3Stream::read_body(BodyHandler handler) {
  if (pending_read_) {
    asio::post(executor_, [h = std::move(handler)] { h({}, false, asio::error::in_progress); });
    return;
  }
  pending_read_ = std::move(handler);
  deliver_soon();
}

void H3Stream::deliver_soon() {
  if (deliver_posted_) return;
  deliver_posted_ = true;
  asio::post(executor_, [self = shared_from_this()] {
    self->deliver_posted_ = false;
    self->deliver();
  });
}

void H3Stream::deliver() {
  if (!pending_read_) return;
  auto handler = std::move(pending_read_);
  pending_read_ = nullptr;
  if (!in_buf_.empty()) {
    delivered_.clear();
    delivered_.swap(in_buf_);
    consumed_ += delivered_.size();
    // Only now may the peer send this much more: the window is the bound on in_buf_.
    if (usable()) session_->consumed(id_, delivered_.size());
    handler(std::span<const std::uint8_t>(delivered_.data(), delivered_.size()), false, {});
    return;
  }
  if (request_eof_) return handler({}, true, {});
  if (closed_) return handler({}, false, asio::error::connection_reset);
  pending_read_ = std::move(handler);
}

void H3Stream::on_closed(std::uint64_t app_error_code) {
  if (stream_closed_) return;
  stream_closed_ = true;
  closed_ = true;
  if (app_error_code != NGHTTP3_H3_NO_ERROR || !eof_handed_) {
    spdlog::debug("h3 stream {} closed (error {:#x})", id_, app_error_code);
  }
  fail_pending();
  // Unacknowledged bytes will never be reported now (nghttp3 forgets them): free them here.
  std::deque<Bytes>().swap(chunks_);
  chunk_bytes_ = 0;
  front_offset_ = 0;
  std::vector<std::uint8_t>().swap(delivered_);
  reserved_ = 0;
  const bool held = share_.held() > 0;
  share_.detach();
  if (held && !session_->gone()) session_->schedule_room_check();
  session_.reset();
}

void H3Stream::fail_pending() {
  if (pending_read_) {
    if (!in_buf_.empty() || request_eof_) {
      deliver_soon();
    } else {
      asio::post(executor_, [h = std::move(pending_read_)] { h({}, false, asio::error::connection_reset); });
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

// ---------------------------------------------------------------------------------------------
// Response side.

void H3Stream::send_interim(int status, const Headers& headers) {
  if (!usable() || head_sent_ || abort_ != Abort::None || status < 100 || status > 199 || status == 101) return;
  auto nv = response_nv<nghttp3_nv>(status, headers);
  auto* nva = nv.build();
  // Frames go out in submission order, so this HEADERS precedes the final response.
  if (int rv = nghttp3_conn_submit_info(session_->http3(), id_, nva, nv.size()); rv != 0)
    spdlog::warn("h3 stream {}: interim {} not sent: {}", id_, status, nghttp3_strerror(rv));
  session_->schedule_write();
}

void H3Stream::send_response_head(int status, const Headers& headers, std::optional<std::uint64_t> content_length) {
  if (!usable() || head_sent_ || abort_ != Abort::None) return;
  head_sent_ = true;
  if (!content_length) content_length = content_length_from(headers);
  const bool bodiless_status = status == 204 || status == 304 || status < 200;
  no_body_ = request_.method == "HEAD" || bodiless_status || (content_length && *content_length == 0);
  auto nv = response_nv<nghttp3_nv>(status, headers);
  if (content_length && !bodiless_status) nv.add("content-length", std::to_string(*content_length));
  auto* nva = nv.build();
  nghttp3_data_reader reader{&read_callback};
  has_reader_ = !no_body_;
  if (int rv = nghttp3_conn_submit_response(session_->http3(), id_, nva, nv.size(), has_reader_ ? &reader : nullptr);
      rv != 0) {
    spdlog::warn("h3 stream {}: response not sent: {}", id_, nghttp3_strerror(rv));
    session_->reset_stream(id_);
  }
  if (!has_reader_) eof_handed_ = true;
  session_->schedule_write();
}

void H3Stream::account() {
  const auto before = share_.held();
  share_.set(chunk_bytes_ + reserved_);
  if (share_.held() < before && usable()) session_->schedule_room_check();
}

void H3Stream::await_room(std::size_t max, RoomHandler ready) {
  if (!usable() || !head_sent_ || finished_ || abort_ != Abort::None || no_body_) {
    asio::post(executor_, [h = std::move(ready)] { h(0, asio::error::operation_aborted); });
    return;
  }
  if (pending_room_) {
    asio::post(executor_, [h = std::move(ready)] { h(0, asio::error::in_progress); });
    return;
  }
  if (reserved_ > 0) {
    reserved_ = 0;
    account();
  }
  pending_room_ = std::move(ready);
  pending_room_max_ = std::max<std::size_t>(max, 1);
  recheck_room();
}

void H3Stream::recheck_room() {
  if (!pending_room_ || !usable()) return;
  auto* conn = share_.connection();
  auto* server = share_.server();
  // QUIC's windows are enforced by ngtcp2 below nghttp3; what bounds memory here is what the
  // stream holds until acknowledged, and the budgets.
  std::int64_t room = static_cast<std::int64_t>(kResponseHighWater) - static_cast<std::int64_t>(chunk_bytes_);
  if (conn != nullptr) room = std::min<std::int64_t>(room, static_cast<std::int64_t>(conn->room()));
  if (server != nullptr) room = std::min<std::int64_t>(room, static_cast<std::int64_t>(server->room()));
  room = std::min<std::int64_t>(room, static_cast<std::int64_t>(pending_room_max_));
  if (room <= 0) {
    // Acknowledgements call recheck_room; the budgets wake their waiters.
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

void H3Stream::write_body(Bytes data, WriteHandler done) {
  reserved_ = 0;
  if (!usable() || !head_sent_ || finished_ || abort_ != Abort::None) {
    account();
    asio::post(executor_, [d = std::move(done)] { d(asio::error::operation_aborted); });
    return;
  }
  if (!no_body_ && !data.empty()) {
    if (chunk_bytes_ == 0) progress_ = std::chrono::steady_clock::now();
    written_ += data.size();
    chunk_bytes_ += data.size();
    chunks_.push_back(std::move(data));
    resume();
  }
  account();
  if (chunk_bytes_ < kResponseHighWater) {
    asio::post(executor_, [d = std::move(done)] { d({}); });
  } else {
    pending_done_ = std::move(done);
  }
}

void H3Stream::finish() {
  if (!usable() || finished_) return;
  if (!head_sent_) send_response_head(500, {}, 0);
  finished_ = true;
  if (reserved_ > 0) {
    reserved_ = 0;
    account();
  }
  resume();
  if (eof_handed_ && !request_eof_ && usable()) session_->stop_reading(id_);
}

void H3Stream::abort_reset() {
  if (!usable() || abort_ != Abort::None) return;
  abort_ = Abort::Reset;
  fail_pending();
  closed_ = true;
  maybe_fire_abort();
}

void H3Stream::abort_close() {
  if (!usable() || abort_ != Abort::None) return;
  abort_ = Abort::Close;
  fail_pending();
  closed_ = true;
  maybe_fire_abort();
}

void H3Stream::maybe_fire_abort() {
  if (abort_ == Abort::None || abort_fired_ || !session_ || session_->gone()) return;
  if (acked_ < written_) {
    resume();  // let the reader hand out what is left; the last ack fires the abort
    return;
  }
  abort_fired_ = true;
  // Posted: this may run inside nghttp3's acked_stream_data, where the stream must not be
  // shut down under it.
  asio::post(executor_, [self = shared_from_this(), close = abort_ == Abort::Close] {
    if (!self->session_ || self->session_->gone()) return;
    if (close) {
      self->session_->close_connection();
    } else {
      self->session_->reset_stream(self->id_);
    }
  });
}

void H3Stream::reject(int status) {
  head_sent_ = true;
  no_body_ = true;
  finished_ = true;
  eof_handed_ = true;
  NvList<nghttp3_nv> nv;
  nv.add(":status", std::to_string(status));
  nv.add("content-length", "0");
  auto* nva = nv.build();
  nghttp3_conn_submit_response(session_->http3(), id_, nva, nv.size(), nullptr);
  session_->schedule_write();
}

void H3Stream::resume() {
  if (!session_ || session_->gone()) return;
  if (blocked_) {
    blocked_ = false;
    nghttp3_conn_resume_stream(session_->http3(), id_);
  }
  session_->schedule_write();
}

// nghttp3's data reader: the queued chunks not yet handed out, as vecs into our memory (kept
// until acknowledged). Never 0 vecs without EOF: nghttp3 asserts on that.
nghttp3_ssize H3Stream::read_data(nghttp3_vec* vec, std::size_t veccnt, std::uint32_t* flags) {
  if (handed_ == written_) {
    if (finished_ && abort_ == Abort::None) {
      *flags |= NGHTTP3_DATA_FLAG_EOF;
      eof_handed_ = true;
      if (!request_eof_) {
        // Posted: we are inside nghttp3_conn_writev_stream.
        asio::post(executor_, [self = shared_from_this()] {
          if (self->session_ && !self->session_->gone() && !self->request_eof_) self->session_->stop_reading(self->id_);
        });
      }
      return 0;
    }
    blocked_ = true;
    return NGHTTP3_ERR_WOULDBLOCK;
  }
  // Find the chunk holding offset handed_: chunks_ starts at acked_ - front_offset_.
  std::uint64_t pos = acked_ - front_offset_;
  std::size_t n = 0;
  for (auto& chunk : chunks_) {
    if (n == veccnt) break;
    const std::uint64_t end = pos + chunk.size();
    if (end > handed_) {
      const auto skip = static_cast<std::size_t>(handed_ > pos ? handed_ - pos : 0);
      vec[n].base = chunk.data() + skip;
      vec[n].len = chunk.size() - skip;
      handed_ += vec[n].len;
      ++n;
    }
    pos = end;
  }
  if (finished_ && handed_ == written_ && abort_ == Abort::None) {
    *flags |= NGHTTP3_DATA_FLAG_EOF;
    eof_handed_ = true;
  }
  return static_cast<nghttp3_ssize>(n);
}

void H3Stream::on_acked(std::uint64_t bytes) {
  acked_ += bytes;
  progress_ = std::chrono::steady_clock::now();
  bool freed = false;
  std::uint64_t left = bytes;
  while (left > 0 && !chunks_.empty()) {
    auto& front = chunks_.front();
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(left, front.size() - front_offset_));
    front_offset_ += take;
    left -= take;
    if (front_offset_ == front.size()) {
      chunk_bytes_ -= front.size();
      chunks_.pop_front();
      front_offset_ = 0;
      freed = true;
    }
  }
  if (freed) {
    account();
    if (pending_done_ && chunk_bytes_ < kResponseHighWater) {
      asio::post(executor_, [d = std::move(pending_done_)] { d({}); });
      pending_done_ = nullptr;
    }
    if (pending_room_) recheck_room();
  }
  maybe_fire_abort();
}

}  // namespace xts::net
