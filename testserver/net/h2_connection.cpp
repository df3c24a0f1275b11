#include "testserver/net/h2_connection.h"

#include <climits>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace xts::net {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kReadBuffer = 256 * 1024;

// Trampolines: cast user_data, call one member, never throw across the C frame.
template <class Conn>
Conn& conn_of(void* user_data) {
  return *static_cast<Conn*>(user_data);
}

template <class Conn>
struct Callbacks {
  static int begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    return conn_of<Conn>(ud).on_begin_headers(frame);
  }
  static int header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                    std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                    std::uint8_t, void* ud) {
    return conn_of<Conn>(ud).on_header(
        frame, std::string_view(reinterpret_cast<const char*>(name), namelen),
        std::string_view(reinterpret_cast<const char*>(value), valuelen));
  }
  static int frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    return conn_of<Conn>(ud).on_frame_recv(frame);
  }
  static int frame_send(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    return conn_of<Conn>(ud).on_frame_send(frame);
  }
  static int data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id,
                        const std::uint8_t* data, std::size_t len, void* ud) {
    return conn_of<Conn>(ud).on_data_chunk(stream_id, data, len);
  }
  static int stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code,
                          void* ud) {
    return conn_of<Conn>(ud).on_stream_close(stream_id, error_code);
  }
  static int send_data(nghttp2_session*, nghttp2_frame* frame, const std::uint8_t* framehd,
                       std::size_t length, nghttp2_data_source* source, void* ud) {
    return conn_of<Conn>(ud).send_data(frame, framehd, length, *static_cast<H2Stream*>(source->ptr));
  }
  static int error(nghttp2_session*, int, const char* msg, std::size_t len, void*) {
    spdlog::debug("nghttp2: {}", std::string_view(msg, len));
    return 0;
  }
};

}  // namespace

template <class Stream>
H2Connection<Stream>::H2Connection(Stream stream, std::string_view initial,
                                   std::shared_ptr<const ConnectionContext> ctx, std::string scheme)
    : stream_(std::move(stream)),
      ctx_(std::move(ctx)),
      scheme_(std::move(scheme)),
      alt_svc_(kIsTls<Stream> ? ctx_->alt_svc : std::string()),
      peer_(peer_string(tcp_socket(stream_))),
      initial_(initial.begin(), initial.end()),
      read_buf_(kReadBuffer),
      budget_(stream_.get_executor(), kConnectionResponseBudget),
      tick_timer_(stream_.get_executor()),
      started_(Clock::now()),
      idle_since_(started_) {
  out_buf_.reserve(kWriteBatch + 32 * 1024);
}

template <class Stream>
H2Connection<Stream>::~H2Connection() {
  if (session_ != nullptr) nghttp2_session_del(session_);
  if (registry_id_ != 0 && ctx_->registry != nullptr) ctx_->registry->remove(registry_id_);
}

template <class Stream>
bool H2Connection<Stream>::init_session() {
  using Cb = Callbacks<H2Connection<Stream>>;
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Cb::begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Cb::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Cb::frame_recv);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &Cb::frame_send);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Cb::data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Cb::stream_close);
  nghttp2_session_callbacks_set_send_data_callback(callbacks, &Cb::send_data);
  nghttp2_session_callbacks_set_error_callback2(callbacks, &Cb::error);
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  // Window updates only for bytes the handler pulled: back-pressure reaches the client.
  nghttp2_option_set_no_auto_window_update(option, 1);
  const int rv = nghttp2_session_server_new2(&session_, callbacks, this, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) return false;
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, ctx_->limits.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(kH2StreamWindow)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<std::uint32_t>(ctx_->limits.max_header_bytes)},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kH2ConnectionWindow);
  return true;
}

template <class Stream>
void H2Connection<Stream>::start() {
  if (ctx_->registry != nullptr) registry_id_ = ctx_->registry->add(this->weak_from_this());
  if (!init_session()) {
    spdlog::error("h2 {}: cannot create nghttp2 session", peer_);
    return close();
  }
  if constexpr (kIsTls<Stream>) tls_direct_ = tls_takeover();
  if (!initial_.empty()) {
    const bool ok = feed(initial_.data(), initial_.size());
    initial_.clear();
    initial_.shrink_to_fit();
    if (!ok) return close();
  }
  on_tick();
  do_write();
  do_read();
}

template <class Stream>
void H2Connection<Stream>::stop() {
  if (closed_) return;
  terminate(NGHTTP2_NO_ERROR);
}

template <class Stream>
void H2Connection<Stream>::terminate(std::uint32_t error_code) {
  if (closed_ || session_ == nullptr) return;
  nghttp2_session_terminate_session(session_, error_code);
  schedule_write();
}

// ---------------------------------------------------------------------------------------------
// I/O: one read and one write in flight; nghttp2 only ever called outside its own callbacks.

// Takes the established TLS session away from Asio's BIO pair: reads go through a memory BIO we
// fill from the socket, writes go from OpenSSL to the (non-blocking) socket directly. Ciphertext
// Asio already put into its pair but OpenSSL has not consumed moves over; if OpenSSL has output
// Asio has not sent yet, only Asio can send it, so the connection stays on Asio's path.
template <class Stream>
bool H2Connection<Stream>::tls_takeover() {
  if constexpr (!kIsTls<Stream>) {
    return false;
  } else {
    SSL* ssl = stream_.native_handle();
    BIO* old_bio = SSL_get_rbio(ssl);
    if (old_bio == nullptr || old_bio != SSL_get_wbio(ssl) || BIO_ctrl_wpending(old_bio) != 0) return false;
    error_code ec;
    tcp_socket(stream_).non_blocking(true, ec);
    if (ec) return false;
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new_socket(static_cast<int>(tcp_socket(stream_).native_handle()), BIO_NOCLOSE);
    if (rbio == nullptr || wbio == nullptr) {
      BIO_free(rbio);
      BIO_free(wbio);
      return false;
    }
    BIO_set_mem_eof_return(rbio, -1);  // empty means "wait for more", not end of stream
    std::uint8_t buf[4096];
    for (;;) {
      const int n = BIO_read(old_bio, buf, sizeof buf);
      if (n <= 0) break;
      BIO_write(rbio, buf, n);
    }
    SSL_set_bio(ssl, rbio, wbio);  // frees Asio's inner BIO; Asio frees its outer one
    tls_rbio_ = rbio;
    raw_buf_.resize(kReadBuffer);
    return true;
  }
}

template <class Stream>
void H2Connection<Stream>::do_read_tls() {
  if (reading_ || closed_) return;
  if (lingering_) return drain_input();
  if (!nghttp2_session_want_read(session_)) return;
  reading_ = true;
  tcp_socket(stream_).async_read_some(asio::buffer(raw_buf_),
                                      [self = this->shared_from_this()](error_code ec, std::size_t n) {
                                        self->reading_ = false;
                                        if (self->closed_) return;
                                        if (ec) return self->close();
                                        if (!self->feed_tls(n)) return self->close();
                                        self->do_write();
                                        self->do_read();
                                      });
}

// Decrypts everything that is complete and feeds it to nghttp2. False: TLS error or the peer's
// close_notify.
template <class Stream>
bool H2Connection<Stream>::feed_tls(std::size_t n) {
  if constexpr (!kIsTls<Stream>) {
    (void)n;
    return false;
  } else {
    if (BIO_write(tls_rbio_, raw_buf_.data(), static_cast<int>(n)) != static_cast<int>(n)) return false;
    SSL* ssl = stream_.native_handle();
    for (;;) {
      ERR_clear_error();
      const int r = SSL_read(ssl, read_buf_.data(), static_cast<int>(read_buf_.size()));
      if (r > 0) {
        if (!feed(read_buf_.data(), static_cast<std::size_t>(r))) return false;
        continue;
      }
      const int err = SSL_get_error(ssl, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return true;
      if (err != SSL_ERROR_ZERO_RETURN) spdlog::debug("h2 {}: tls read error {}", peer_, err);
      return false;
    }
  }
}

// Writes out_buf_ from offset on; waits for the socket when it is full. Completion is always
// posted, so a long download does not recurse through do_write.
template <class Stream>
void H2Connection<Stream>::write_tls(std::size_t offset) {
  if constexpr (kIsTls<Stream>) {
    SSL* ssl = stream_.native_handle();
    while (offset < out_buf_.size()) {
      ERR_clear_error();
      const auto len = std::min<std::size_t>(out_buf_.size() - offset, INT_MAX);
      const int r = SSL_write(ssl, out_buf_.data() + offset, static_cast<int>(len));
      if (r > 0) {
        offset += static_cast<std::size_t>(r);
        continue;
      }
      if (SSL_get_error(ssl, r) == SSL_ERROR_WANT_WRITE) {
        tcp_socket(stream_).async_wait(asio::socket_base::wait_write,
                                       [self = this->shared_from_this(), offset](error_code ec) {
                                         if (ec || self->closed_) return self->after_write(ec);
                                         self->write_tls(offset);
                                       });
        return;
      }
      return asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
        self->after_write(asio::error::broken_pipe);
      });
    }
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->after_write({}); });
  } else {
    (void)offset;
  }
}

template <class Stream>
void H2Connection<Stream>::after_write(error_code ec) {
  writing_ = false;
  if (closed_) return;
  if (ec) return close();
  submit_pending_resets();
  do_write();
  do_read();
}

template <class Stream>
void H2Connection<Stream>::do_read() {
  if (tls_direct_) return do_read_tls();
  if (reading_ || closed_) return;
  if (lingering_) return drain_input();
  if (!nghttp2_session_want_read(session_)) return;
  reading_ = true;
  stream_.async_read_some(asio::buffer(read_buf_),
                          [self = this->shared_from_this()](error_code ec, std::size_t n) {
                            self->reading_ = false;
                            if (self->closed_) return;
                            if (ec) return self->close();
                            if (!self->feed(self->read_buf_.data(), n)) return self->close();
                            self->do_write();
                            self->do_read();
                          });
}

template <class Stream>
bool H2Connection<Stream>::feed(const std::uint8_t* data, std::size_t len) {
  in_session_call_ = true;
  const auto rv = nghttp2_session_mem_recv(session_, data, len);
  in_session_call_ = false;
  if (rv < 0) {
    spdlog::info("h2 {}: closing: {}", peer_, nghttp2_strerror(static_cast<int>(rv)));
    return false;
  }
  return true;
}

template <class Stream>
void H2Connection<Stream>::schedule_write() {
  if (write_posted_ || writing_ || closed_) return;
  write_posted_ = true;
  asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
    self->write_posted_ = false;
    self->do_write();
  });
}

template <class Stream>
void H2Connection<Stream>::schedule_room_check() {
  if (room_check_posted_ || closed_) return;
  room_check_posted_ = true;
  asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
    self->room_check_posted_ = false;
    if (self->closed_) return;
    for (const auto& [id, stream] : self->streams_) {
      if (stream->awaiting_room()) stream->recheck_room();
    }
  });
}

template <class Stream>
void H2Connection<Stream>::reset_after_flush(std::int32_t stream_id, std::uint32_t error_code) {
  pending_resets_.emplace_back(stream_id, error_code);
  // Called from the data provider inside do_write: the batch being built carries the last
  // DATA, after_write submits the reset. Outside a write, schedule one to get there.
  if (!in_session_call_) schedule_write();
}

template <class Stream>
void H2Connection<Stream>::submit_pending_resets() {
  if (pending_resets_.empty()) return;
  auto resets = std::move(pending_resets_);
  pending_resets_.clear();
  for (const auto& [id, code] : resets) nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, code);
}

template <class Stream>
void H2Connection<Stream>::do_write() {
  if (writing_ || closed_ || lingering_) return;
  out_buf_.clear();
  in_session_call_ = true;
  while (out_buf_.size() < kWriteBatch) {
    const std::uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      in_session_call_ = false;
      spdlog::info("h2 {}: send failed: {}", peer_, nghttp2_strerror(static_cast<int>(n)));
      return close();
    }
    if (n == 0) break;
    out_buf_.insert(out_buf_.end(), data, data + n);
  }
  in_session_call_ = false;
  if (out_buf_.empty()) {
    if (!pending_resets_.empty()) {
      // Nothing of those streams is left unsent: the resets may go now.
      submit_pending_resets();
      return do_write();
    }
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) close_gracefully();
    return;
  }
  writing_ = true;
  write_started_ = Clock::now();
  if (tls_direct_) return write_tls(0);
  asio::async_write(stream_, asio::buffer(out_buf_),
                    [self = this->shared_from_this()](error_code ec, std::size_t) { self->after_write(ec); });
}

template <class Stream>
void H2Connection<Stream>::on_tick() {
  if (closed_ || lingering_) return;
  const auto now = Clock::now();
  const auto& limits = ctx_->limits;
  bool slow_headers = !got_settings_ && now - started_ > limits.header_timeout;
  for (const auto& [id, stream] : streams_) {
    if (!stream->dispatched() && !stream->response_ended() && now - stream->created() > limits.header_timeout) {
      slow_headers = true;
    }
  }
  if (slow_headers) {
    spdlog::info("h2 {}: headers too slow, closing", peer_);
    return close();
  }
  if (writing_ && now - write_started_ > limits.io_timeout) {
    spdlog::info("h2 {}: peer stopped reading, closing", peer_);
    return close();
  }
  // A peer that keeps the send window at zero would pin the stream, its queued response bytes
  // and the handler forever: after the idle timeout without progress the stream is cancelled.
  // nghttp2 may close the stream inside submit, so collect first.
  std::vector<std::int32_t> stuck;
  for (const auto& [id, stream] : streams_) {
    if (stream->stuck_on_window(now, limits.idle_timeout)) stuck.push_back(id);
  }
  for (const auto id : stuck) {
    spdlog::info("h2 {}: stream {}: send window stayed at zero for {} ms, RST_STREAM", peer_, id,
                 limits.idle_timeout.count());
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  }
  if (!stuck.empty()) schedule_write();
  if (streams_.empty() && now - idle_since_ > limits.idle_timeout) {
    idle_since_ = now;  // GOAWAY once; the close follows when it is flushed
    terminate(NGHTTP2_NO_ERROR);
  }
  tick_timer_.expires_after(std::chrono::seconds(1));
  tick_timer_.async_wait([weak = this->weak_from_this()](error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_tick();
  });
}

// Once our GOAWAY is out the session wants nothing more, but the peer may still be sending
// (WINDOW_UPDATE, SETTINGS ACK, its own GOAWAY). Closing with those bytes unread makes the kernel
// answer with a RST, which can destroy the GOAWAY and the last DATA before the peer reads them
// (curl then reports a reset instead of a clean end). So: FIN, then read and drop what still
// arrives until the peer's EOF, bounded by a timer.
template <class Stream>
void H2Connection<Stream>::close_gracefully() {
  if (closed_ || lingering_) return;
  lingering_ = true;
  error_code ec;
  tcp_socket(stream_).shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  tick_timer_.cancel();
  tick_timer_.expires_after(std::chrono::seconds(2));
  tick_timer_.async_wait([weak = this->weak_from_this()](error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->close();
  });
  if (!reading_) drain_input();
}

template <class Stream>
void H2Connection<Stream>::drain_input() {
  if (reading_ || closed_) return;
  reading_ = true;
  tcp_socket(stream_).async_read_some(asio::buffer(read_buf_),
                                      [self = this->shared_from_this()](error_code ec, std::size_t) {
                                        self->reading_ = false;
                                        if (ec || self->closed_) return self->close();
                                        self->drain_input();
                                      });
}

template <class Stream>
void H2Connection<Stream>::close() {
  if (closed_) return;
  closed_ = true;
  tick_timer_.cancel();
  error_code ec;
  tcp_socket(stream_).close(ec);
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) stream->on_closed(NGHTTP2_CANCEL);
  if (registry_id_ != 0 && ctx_->registry != nullptr) ctx_->registry->remove(registry_id_);
  registry_id_ = 0;
}

// ---------------------------------------------------------------------------------------------
// nghttp2 callbacks.

template <class Stream>
H2Stream* H2Connection<Stream>::stream_of(std::int32_t id) {
  return static_cast<H2Stream*>(nghttp2_session_get_stream_user_data(session_, id));
}

template <class Stream>
int H2Connection<Stream>::on_begin_headers(const nghttp2_frame* frame) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  Request base;
  base.protocol = "h2";
  base.scheme = scheme_;
  base.peer = peer_;
  auto stream = std::make_shared<H2Stream>(
      std::static_pointer_cast<H2Session>(this->shared_from_this()), frame->hd.stream_id, std::move(base));
  nghttp2_session_set_stream_user_data(session_, frame->hd.stream_id, stream.get());
  streams_[frame->hd.stream_id] = std::move(stream);
  return 0;
}

template <class Stream>
int H2Connection<Stream>::on_header(const nghttp2_frame* frame, std::string_view name,
                                    std::string_view value) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  auto* stream = stream_of(frame->hd.stream_id);
  if (stream == nullptr) return 0;
  if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    stream->add_header(name, value, ctx_->limits);
  }
  // Trailer fields are not kept, but not unlimited either.
  return 0;
}

template <class Stream>
void H2Connection<Stream>::dispatch(const std::shared_ptr<H2Stream>& stream) {
  stream->set_dispatched();
  asio::post(stream_.get_executor(), [ctx = ctx_, stream] {
    try {
      ctx->handler(stream);
    } catch (const std::exception& e) {
      spdlog::error("h2: handler threw: {}", e.what());
      stream->abort_reset();
    }
  });
}

template <class Stream>
int H2Connection<Stream>::on_frame_recv(const nghttp2_frame* frame) {
  switch (frame->hd.type) {
    case NGHTTP2_SETTINGS:
      got_settings_ = true;
      schedule_room_check();  // INITIAL_WINDOW_SIZE may have moved every stream's window
      return 0;
    case NGHTTP2_WINDOW_UPDATE:
      schedule_room_check();
      return 0;
    case NGHTTP2_HEADERS: {
      auto* stream = stream_of(frame->hd.stream_id);
      if (stream == nullptr) return 0;
      if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) stream->on_end_of_request();
      if (frame->headers.cat != NGHTTP2_HCAT_REQUEST || stream->dispatched()) return 0;
      auto it = streams_.find(frame->hd.stream_id);
      if (it == streams_.end()) return 0;
      if (stream->too_large()) {
        spdlog::info("h2 {}: stream {}: header block over limits, 431", peer_, stream->id());
        stream->set_dispatched();
        stream->reject(431);
        return 0;
      }
      if (!stream->complete_headers()) {
        stream->set_dispatched();
        stream->reject(400);
        return 0;
      }
      dispatch(it->second);
      return 0;
    }
    case NGHTTP2_DATA: {
      auto* stream = stream_of(frame->hd.stream_id);
      if (stream != nullptr && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) stream->on_end_of_request();
      return 0;
    }
    default:
      return 0;
  }
}

template <class Stream>
int H2Connection<Stream>::on_frame_send(const nghttp2_frame* frame) {
  if (frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) return 0;
  if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
  auto* stream = stream_of(frame->hd.stream_id);
  if (stream == nullptr) return 0;
  stream->set_response_ended();
  // The response is complete but the request body is not: tell the client to stop sending
  // (RFC 9113 §8.1), instead of letting unread bytes hold the connection window.
  if (!stream->request_ended()) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
  }
  return 0;
}

template <class Stream>
int H2Connection<Stream>::on_data_chunk(std::int32_t stream_id, const std::uint8_t* data,
                                        std::size_t len) {
  auto* stream = stream_of(stream_id);
  if (stream == nullptr || stream->response_ended() || stream->closed()) {
    // Nobody will pull these bytes: give the window back now.
    nghttp2_session_consume(session_, stream_id, len);
    return 0;
  }
  stream->on_data(data, len);
  return 0;
}

template <class Stream>
int H2Connection<Stream>::on_stream_close(std::int32_t stream_id, std::uint32_t error_code) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return 0;
  auto stream = std::move(it->second);
  streams_.erase(it);
  if (const auto unconsumed = stream->unconsumed(); unconsumed > 0) {
    nghttp2_session_consume_connection(session_, unconsumed);
  }
  stream->on_closed(error_code);
  if (streams_.empty()) idle_since_ = Clock::now();
  return 0;
}

template <class Stream>
int H2Connection<Stream>::send_data(nghttp2_frame* frame, const std::uint8_t* framehd,
                                    std::size_t length, H2Stream& stream) {
  out_buf_.insert(out_buf_.end(), framehd, framehd + 9);
  const std::size_t padlen = frame->data.padlen;
  if (padlen > 0) out_buf_.push_back(static_cast<std::uint8_t>(padlen - 1));
  stream.copy_out(length, out_buf_);
  if (padlen > 1) out_buf_.insert(out_buf_.end(), padlen - 1, 0);
  // One mem_send call would otherwise pack every DATA frame the windows allow into this batch
  // (all the connection's queued bytes, outside any budget): end the call once it is full.
  return out_buf_.size() >= kWriteBatch ? NGHTTP2_ERR_PAUSE : 0;
}

template class H2Connection<PlainStream>;
template class H2Connection<TlsStream>;

}  // namespace xts::net
