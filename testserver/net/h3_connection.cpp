#include "testserver/net/h3_connection.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace xts::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Windows sized for throughput on loopback; request-body credit is returned as consumed.
constexpr std::uint64_t kMaxData = 16 * 1024 * 1024;
constexpr std::uint64_t kStreamData = 4 * 1024 * 1024;
constexpr std::uint64_t kUniStreamData = 256 * 1024;
constexpr std::uint64_t kMaxStreamsUni = 8;  // 3 for HTTP/3 plus room for GREASE
constexpr std::size_t kTxBuffer = 64 * 1024;
constexpr std::size_t kMaxBatch = 64;

ngtcp2_tstamp now_ns() {
  return static_cast<ngtcp2_tstamp>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

std::uint64_t to_ns(std::chrono::milliseconds ms) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(ms).count());
}

H3Connection& self_of(void* user_data) { return *static_cast<H3Connection*>(user_data); }

// ngtcp2 trampolines.
ngtcp2_conn* get_conn(ngtcp2_crypto_conn_ref* ref) { return static_cast<H3Connection*>(ref->user_data)->quic(); }

void rand_cb(std::uint8_t* dest, std::size_t destlen, const ngtcp2_rand_ctx*) {
  (void)gnutls_rnd(GNUTLS_RND_RANDOM, dest, destlen);
}
int recv_stream_data(ngtcp2_conn*, std::uint32_t flags, std::int64_t id, std::uint64_t, const std::uint8_t* data,
                     std::size_t len, void* ud, void*) {
  return self_of(ud).on_recv_stream_data(flags, id, data, len);
}
int acked_stream_data_offset(ngtcp2_conn*, std::int64_t id, std::uint64_t, std::uint64_t datalen, void* ud, void*) {
  return self_of(ud).on_acked_stream_data_offset(id, datalen);
}
int stream_open(ngtcp2_conn*, std::int64_t, void*) { return 0; }
int stream_close(ngtcp2_conn*, std::uint32_t flags, std::int64_t id, std::uint64_t code, void* ud, void*) {
  return self_of(ud).on_stream_close(flags, id, code);
}
int stream_reset(ngtcp2_conn*, std::int64_t id, std::uint64_t, std::uint64_t, void* ud, void*) {
  return self_of(ud).on_stream_reset(id);
}
int stream_stop_sending(ngtcp2_conn*, std::int64_t id, std::uint64_t, void* ud, void*) {
  return self_of(ud).on_stream_reset(id);
}
int extend_max_remote_streams_bidi(ngtcp2_conn*, std::uint64_t max_streams, void* ud) {
  return self_of(ud).on_extend_max_remote_streams_bidi(max_streams);
}
int extend_max_stream_data(ngtcp2_conn*, std::int64_t id, std::uint64_t, void* ud, void*) {
  return self_of(ud).on_extend_max_stream_data(id);
}
int recv_tx_key(ngtcp2_conn*, ngtcp2_crypto_level level, void* ud) { return self_of(ud).on_recv_tx_key(level); }
int handshake_completed(ngtcp2_conn*, void* ud) { return self_of(ud).on_handshake_completed(); }
int get_new_connection_id(ngtcp2_conn*, ngtcp2_cid* cid, std::uint8_t* token, std::size_t cidlen, void* ud) {
  return self_of(ud).on_get_new_connection_id(cid, token, cidlen);
}
int remove_connection_id(ngtcp2_conn*, const ngtcp2_cid* cid, void* ud) {
  return self_of(ud).on_remove_connection_id(cid);
}

// nghttp3 trampolines.
int h3_acked(nghttp3_conn*, std::int64_t id, std::uint64_t n, void* ud, void* sud) {
  return self_of(ud).h3_acked_stream_data(id, n, sud);
}
int h3_close(nghttp3_conn*, std::int64_t id, std::uint64_t code, void* ud, void* sud) {
  return self_of(ud).h3_stream_close(id, code, sud);
}
int h3_data(nghttp3_conn*, std::int64_t id, const std::uint8_t* data, std::size_t len, void* ud, void* sud) {
  return self_of(ud).h3_recv_data(id, data, len, sud);
}
int h3_deferred(nghttp3_conn*, std::int64_t id, std::size_t n, void* ud, void*) {
  return self_of(ud).h3_deferred_consume(id, n);
}
int h3_begin(nghttp3_conn*, std::int64_t id, void* ud, void*) { return self_of(ud).h3_begin_headers(id); }
int h3_header(nghttp3_conn*, std::int64_t id, std::int32_t, nghttp3_rcbuf* name, nghttp3_rcbuf* value, std::uint8_t,
              void* ud, void* sud) {
  return self_of(ud).h3_recv_header(id, name, value, sud);
}
int cb_end_headers(nghttp3_conn*, std::int64_t id, int fin, void* ud, void* sud) {
  return self_of(ud).h3_end_headers(id, fin, sud);
}
int cb_end_stream(nghttp3_conn*, std::int64_t id, void* ud, void* sud) { return self_of(ud).h3_end_stream(id, sud); }
int cb_stop_sending(nghttp3_conn*, std::int64_t id, std::uint64_t code, void* ud, void*) {
  return self_of(ud).h3_stop_sending(id, code);
}
int h3_reset(nghttp3_conn*, std::int64_t id, std::uint64_t code, void* ud, void*) {
  return self_of(ud).h3_reset_stream(id, code);
}

}  // namespace

H3Connection::H3Connection(asio::io_context& io, std::shared_ptr<QuicEndpoint> endpoint,
                           std::shared_ptr<const ConnectionContext> ctx,
                           std::shared_ptr<const QuicServerCredentials> tls, const SocketAddress& remote)
    : io_(io),
      endpoint_(std::move(endpoint)),
      ctx_(std::move(ctx)),
      tls_(std::move(tls)),
      remote_(remote),
      peer_(remote.to_string()),
      tx_(kTxBuffer),
      timer_(io),
      tick_timer_(io),
      budget_(io.get_executor(), kConnectionResponseBudget) {
  ngtcp2_connection_close_error_default(&last_error_);
}

H3Connection::~H3Connection() {
  // Streams first: they hold shares of budget_.
  for (auto& [id, stream] : streams_) stream->on_closed(NGHTTP3_H3_NO_ERROR);
  streams_.clear();
  if (h3_ != nullptr) nghttp3_conn_del(h3_);
  if (conn_ != nullptr) ngtcp2_conn_del(conn_);
  session_.reset();  // after ngtcp2: it may still reach the session while deleting
  if (registry_id_ != 0 && ctx_->registry != nullptr) ctx_->registry->remove(registry_id_);
}

bool H3Connection::accept(const QuicAccept& info, std::span<const std::uint8_t> datagram) {
  conn_ref_.get_conn = &get_conn;
  conn_ref_.user_data = this;
  auto session = QuicServerSession::create(tls_, &conn_ref_);
  if (!session) {
    spdlog::error("h3 {}: {}", peer_, session.error());
    return false;
  }
  session_ = std::move(*session);

  ngtcp2_callbacks cb{};
  cb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
  cb.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  cb.encrypt = ngtcp2_crypto_encrypt_cb;
  cb.decrypt = ngtcp2_crypto_decrypt_cb;
  cb.hp_mask = ngtcp2_crypto_hp_mask_cb;
  cb.update_key = ngtcp2_crypto_update_key_cb;
  cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  cb.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  cb.rand = &rand_cb;
  cb.get_new_connection_id = &get_new_connection_id;
  cb.remove_connection_id = &remove_connection_id;
  cb.recv_stream_data = &recv_stream_data;
  cb.acked_stream_data_offset = &acked_stream_data_offset;
  // Setting stream_open makes the peer's stream limits ours to extend (on_stream_close).
  cb.stream_open = &stream_open;
  cb.stream_close = &stream_close;
  cb.stream_reset = &stream_reset;
  cb.stream_stop_sending = &stream_stop_sending;
  cb.extend_max_remote_streams_bidi = &extend_max_remote_streams_bidi;
  cb.extend_max_stream_data = &extend_max_stream_data;
  cb.recv_tx_key = &recv_tx_key;
  cb.handshake_completed = &handshake_completed;

  ngtcp2_settings settings;
  ngtcp2_settings_default(&settings);
  settings.initial_ts = now_ns();
  settings.handshake_timeout = to_ns(ctx_->limits.header_timeout);
  // Auto-tuning may grow a window only this far: it bounds buffered request bytes.
  settings.max_window = kMaxData;
  settings.max_stream_window = kStreamData;
  if (info.address_validated) {
    // Only a verified token may lift the anti-amplification limit.
    settings.token = info.header.token;
  }

  ngtcp2_transport_params params;
  ngtcp2_transport_params_default(&params);
  params.initial_max_data = kMaxData;
  params.initial_max_stream_data_bidi_remote = kStreamData;
  params.initial_max_stream_data_bidi_local = 0;  // a server opens no request streams
  params.initial_max_stream_data_uni = kUniStreamData;
  params.initial_max_streams_bidi = std::max<std::uint64_t>(100, ctx_->limits.max_concurrent_streams);
  params.initial_max_streams_uni = kMaxStreamsUni;
  params.max_idle_timeout = to_ns(ctx_->limits.idle_timeout);
  params.active_connection_id_limit = 7;
  params.original_dcid = info.original_dcid;  // always, on a server (no _present flag in 0.12)
  if (info.retry_scid) {
    params.retry_scid = *info.retry_scid;
    params.retry_scid_present = 1;
  }

  ngtcp2_cid scid;
  scid.datalen = kQuicCidLength;
  if (gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen) != 0) return false;
  // The stateless-reset token of the first SCID, derived so it could be recomputed later.
  if (ngtcp2_crypto_generate_stateless_reset_token(params.stateless_reset_token, endpoint_->secret().data(),
                                                   endpoint_->secret().size(), &scid) == 0)
    params.stateless_reset_token_present = 1;

  auto& local = endpoint_->datagram_path().local();
  ngtcp2_path path{{const_cast<ngtcp2_sockaddr*>(local.get()), local.len},
                   {remote_.get(), remote_.len},
                   nullptr};
  // dcid: the client's SCID (where our packets go); scid: ours, fresh.
  if (int rv = ngtcp2_conn_server_new(&conn_, &info.header.scid, &scid, &path, info.header.version, &cb, &settings,
                                      &params, nullptr, this);
      rv != 0) {
    spdlog::error("h3 {}: ngtcp2_conn_server_new: {}", peer_, ngtcp2_strerror(rv));
    return false;
  }
  ngtcp2_conn_set_tls_native_handle(conn_, session_->native());

  ngtcp2_pkt_info pi{};
  in_call_ = true;
  const int rv = ngtcp2_conn_read_pkt(conn_, &path, &pi, datagram.data(), datagram.size(), now_ns());
  in_call_ = false;
  if (rv != 0) {
    spdlog::debug("h3 {}: first Initial refused: {}", peer_, ngtcp2_strerror(rv));
    return false;
  }
  if (ctx_->registry != nullptr) registry_id_ = ctx_->registry->add(weak_from_this());
  auto self = shared_from_this();
  // The client keeps using its first DCID until it has seen ours.
  endpoint_->associate(info.header.dcid, self);
  for (const auto& cid : cids()) endpoint_->associate(cid, self);
  spdlog::debug("h3 {}: new connection{}", peer_, info.retry_scid ? " (after Retry)" : "");
  write();
  on_tick();
  return true;
}

std::vector<ngtcp2_cid> H3Connection::cids() const {
  std::vector<ngtcp2_cid> out;
  if (conn_ == nullptr) return out;
  out.resize(ngtcp2_conn_get_num_scid(conn_));
  out.resize(ngtcp2_conn_get_scid(conn_, out.data()));
  out.push_back(*ngtcp2_conn_get_client_initial_dcid(conn_));
  return out;
}

void H3Connection::on_datagram(const Datagram& datagram) {
  if (state_ == State::Draining || state_ == State::Gone) return;
  if (state_ == State::Closing) {
    // Resend our close, backing off (1st, 2nd, 4th, 8th ... packet): it is outside ngtcp2's
    // anti-amplification accounting.
    ++packets_while_closing_;
    if ((packets_while_closing_ & (packets_while_closing_ - 1)) == 0 && !close_packet_.empty())
      endpoint_->datagram_path().send(remote_, close_packet_, close_packet_.size());
    return;
  }
  auto& local = endpoint_->datagram_path().local();
  ngtcp2_path path{{const_cast<ngtcp2_sockaddr*>(local.get()), local.len},
                   {const_cast<ngtcp2_sockaddr*>(datagram.remote.get()), datagram.remote.len},
                   nullptr};
  ngtcp2_pkt_info pi{};
  auto self = shared_from_this();  // a callback may end the connection
  in_call_ = true;
  const int rv = ngtcp2_conn_read_pkt(conn_, &path, &pi, datagram.data.data(), datagram.data.size(), now_ns());
  in_call_ = false;
  if (rv != 0) return handle_error(rv);
  if (close_requested_) return start_closing();
  write();
}

void H3Connection::handle_error(int liberr) {
  if (state_ != State::Open) return;
  switch (liberr) {
    case NGTCP2_ERR_DRAINING:
      return start_draining();
    case NGTCP2_ERR_DROP_CONN:
    case NGTCP2_ERR_IDLE_CLOSE:
      spdlog::debug("h3 {}: {}", peer_, ngtcp2_strerror(liberr));
      return remove_now();
    case NGTCP2_ERR_CRYPTO:
      if (!error_set_)
        ngtcp2_connection_close_error_set_transport_error_tls_alert(&last_error_, ngtcp2_conn_get_tls_alert(conn_),
                                                                    nullptr, 0);
      break;
    default:
      if (!error_set_) ngtcp2_connection_close_error_set_transport_error_liberr(&last_error_, liberr, nullptr, 0);
      break;
  }
  spdlog::info("h3 {}: closing: {}", peer_, ngtcp2_strerror(liberr));
  start_closing();
}

void H3Connection::stop() {
  if (state_ != State::Open) return;
  if (h3_ != nullptr && handshake_done_) {
    // GOAWAY first, so a client can tell "server going away" from a failure.
    nghttp3_conn_shutdown(h3_);
    write();
  }
  close_connection();
}

void H3Connection::close_connection() {
  if (state_ != State::Open) return;
  if (!error_set_) ngtcp2_connection_close_error_set_application_error(&last_error_, NGHTTP3_H3_NO_ERROR, nullptr, 0);
  error_set_ = true;
  if (in_call_) {
    close_requested_ = true;  // never from inside a callback
    return;
  }
  start_closing();
}

void H3Connection::start_closing() {
  if (state_ != State::Open) return;
  if (ngtcp2_conn_is_in_closing_period(conn_) || ngtcp2_conn_is_in_draining_period(conn_)) {
    state_ = State::Closing;
    return wait_then_remove();
  }
  state_ = State::Closing;
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info pi{};
  close_packet_.resize(std::max<std::size_t>(NGTCP2_MAX_UDP_PAYLOAD_SIZE, ngtcp2_conn_get_max_tx_udp_payload_size(conn_)));
  const ngtcp2_ssize n = ngtcp2_conn_write_connection_close(conn_, &ps.path, &pi, close_packet_.data(),
                                                            close_packet_.size(), &last_error_, now_ns());
  if (n > 0) {
    close_packet_.resize(static_cast<std::size_t>(n));
    follow_path(ps.path);
    endpoint_->datagram_path().send(remote_, close_packet_, close_packet_.size());
  } else {
    // Nothing could be written (e.g. capped by anti-amplification): leave silently.
    close_packet_.clear();
  }
  wait_then_remove();
}

void H3Connection::start_draining() {
  state_ = State::Draining;
  ngtcp2_connection_close_error peer{};
  ngtcp2_conn_get_connection_close_error(conn_, &peer);
  spdlog::debug("h3 {}: peer closed (code {:#x})", peer_, peer.error_code);
  wait_then_remove();
}

void H3Connection::wait_then_remove() {
  // Streams end now: handlers see the error; the CIDs stay for 3 PTO so late packets find us.
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) stream->on_closed(NGHTTP3_H3_NO_ERROR);
  if (registry_id_ != 0 && ctx_->registry != nullptr) ctx_->registry->remove(registry_id_);
  registry_id_ = 0;
  const auto pto = std::chrono::nanoseconds(3 * ngtcp2_conn_get_pto(conn_));
  tick_timer_.cancel();
  timer_.cancel();
  timer_.expires_after(std::clamp<std::chrono::steady_clock::duration>(pto, std::chrono::milliseconds(10), std::chrono::seconds(3)));
  timer_.async_wait([weak = weak_from_this()](error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->remove_now();
  });
}

void H3Connection::remove_now() {
  if (state_ == State::Gone) return;
  state_ = State::Gone;
  timer_.cancel();
  tick_timer_.cancel();
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) stream->on_closed(NGHTTP3_H3_NO_ERROR);
  if (registry_id_ != 0 && ctx_->registry != nullptr) ctx_->registry->remove(registry_id_);
  registry_id_ = 0;
  auto self = shared_from_this();
  endpoint_->remove(*this);
}

// ---------------------------------------------------------------------------------------------
// Send path.

void H3Connection::schedule_write() {
  if (write_posted_ || state_ != State::Open) return;
  write_posted_ = true;
  asio::post(io_, [self = shared_from_this()] {
    self->write_posted_ = false;
    self->write();
  });
}

bool H3Connection::flush(const std::uint8_t* data, std::size_t len, std::size_t segment) {
  if (len == 0) return true;
  if (endpoint_->datagram_path().send(remote_, {data, len}, segment) == DatagramPath::SendResult::Sent) return true;
  // The socket is full: keep the batch, send it first when it drains.
  blocked_ = true;
  blocked_batch_.assign(data, data + len);
  blocked_segment_ = segment;
  endpoint_->datagram_path().when_writable([weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || self->state_ != State::Open) return;
    self->blocked_ = false;
    auto batch = std::move(self->blocked_batch_);
    self->blocked_batch_.clear();
    if (!self->flush(batch.data(), batch.size(), self->blocked_segment_)) return;
    self->write();
  });
  return false;
}

bool H3Connection::same_remote(const ngtcp2_path& path) const {
  return path.remote.addrlen == 0 ||
         (path.remote.addrlen == remote_.len && std::memcmp(path.remote.addr, remote_.get(), remote_.len) == 0);
}

// Packets go where ngtcp2 says (writev_stream's path), not to a fixed peer address: after a
// client's address changed, ngtcp2 validates and moves to the new path.
void H3Connection::follow_path(const ngtcp2_path& path) {
  if (same_remote(path) || path.remote.addrlen > sizeof(remote_.storage)) return;
  SocketAddress next;
  std::memcpy(&next.storage, path.remote.addr, path.remote.addrlen);
  next.len = static_cast<socklen_t>(path.remote.addrlen);
  spdlog::info("h3 {}: path changed, now sending to {}", peer_, next.to_string());
  remote_ = next;
}

// One GSO batch of equal-size packets per call (a shorter packet may only end a batch), then
// the next batch on a later turn; ngtcp2 paces through update_pkt_tx_time and the expiry.
void H3Connection::write() {
  if (state_ != State::Open || blocked_ || in_call_) return;
  auto self = shared_from_this();
  const std::size_t max_udp = ngtcp2_conn_get_max_tx_udp_payload_size(conn_);
  const std::size_t path_max = ngtcp2_conn_get_path_max_tx_udp_payload_size(conn_);
  const std::size_t max_pkts =
      std::clamp<std::size_t>(ngtcp2_conn_get_send_quantum(conn_) / max_udp, 1, std::min(kMaxBatch, kTxBuffer / max_udp));
  const ngtcp2_tstamp ts = now_ns();
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info pi{};
  std::size_t len = 0, gso = 0, count = 0;
  for (;;) {
    std::int64_t stream_id = -1;
    int fin = 0;
    nghttp3_vec vec[16];
    nghttp3_ssize nvec = 0;
    const bool owed = !owed_fins_.empty();
    if (owed) {
      stream_id = owed_fins_.back();
      fin = 1;
    } else if (h3_ != nullptr && ngtcp2_conn_get_max_data_left(conn_) > 0) {
      in_call_ = true;
      nvec = nghttp3_conn_writev_stream(h3_, &stream_id, &fin, vec, 16);
      in_call_ = false;
      if (nvec < 0) {
        spdlog::info("h3 {}: nghttp3: {}", peer_, nghttp3_strerror(static_cast<int>(nvec)));
        ngtcp2_connection_close_error_set_application_error(
            &last_error_, nghttp3_err_infer_quic_app_error_code(static_cast<int>(nvec)), nullptr, 0);
        error_set_ = true;
        return start_closing();
      }
    }
    std::uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
    if (fin) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
    ngtcp2_ssize ndatalen = -1;
    in_call_ = true;
    const ngtcp2_ssize nwrite =
        ngtcp2_conn_writev_stream(conn_, &ps.path, &pi, tx_.data() + len, max_udp, &ndatalen, flags, stream_id,
                                  reinterpret_cast<const ngtcp2_vec*>(vec), static_cast<std::size_t>(nvec), ts);
    in_call_ = false;
    if (owed && (ndatalen >= 0 || (nwrite < 0 && nwrite != NGTCP2_ERR_WRITE_MORE))) {
      // Written, or the stream is gone or reset: nothing is owed any more. Any other error
      // concerns the connection and is handled below as for any stream.
      owed_fins_.pop_back();
      if (nwrite == NGTCP2_ERR_STREAM_NOT_FOUND || nwrite == NGTCP2_ERR_STREAM_SHUT_WR ||
          nwrite == NGTCP2_ERR_STREAM_DATA_BLOCKED)
        continue;
    } else if (!owed && fin && nvec == 0 && stream_id >= 0 && ndatalen < 0 && nwrite >= 0) {
      // nghttp3 (0.8) offered a FIN without data and ngtcp2 could not take it now (congestion
      // window, pacing). nghttp3 may never offer it again: an acknowledgement of the stream's
      // last bytes also drops the unsent empty entry that stood for the FIN, and the stream is
      // unscheduled once it was offered. The response would stall with every byte delivered.
      if (std::find(owed_fins_.begin(), owed_fins_.end(), stream_id) == owed_fins_.end())
        owed_fins_.push_back(stream_id);
    }
    if (nwrite < 0) {
      switch (nwrite) {
        case NGTCP2_ERR_STREAM_DATA_BLOCKED:
          nghttp3_conn_block_stream(h3_, stream_id);
          continue;
        case NGTCP2_ERR_STREAM_SHUT_WR:
          nghttp3_conn_shutdown_stream_write(h3_, stream_id);
          continue;
        case NGTCP2_ERR_WRITE_MORE:
          if (ndatalen >= 0) nghttp3_conn_add_write_offset(h3_, stream_id, static_cast<std::size_t>(ndatalen));
          continue;
        default:
          flush(tx_.data(), len, gso);
          if (!error_set_)
            ngtcp2_connection_close_error_set_transport_error_liberr(&last_error_, static_cast<int>(nwrite), nullptr, 0);
          spdlog::info("h3 {}: write: {}", peer_, ngtcp2_strerror(static_cast<int>(nwrite)));
          return start_closing();
      }
    }
    if (ndatalen >= 0 && h3_ != nullptr && stream_id >= 0)
      nghttp3_conn_add_write_offset(h3_, stream_id, static_cast<std::size_t>(ndatalen));
    if (nwrite == 0) {
      flush(tx_.data(), len, gso);
      ngtcp2_conn_update_pkt_tx_time(conn_, ts);
      break;
    }
    const auto n = static_cast<std::size_t>(nwrite);
    if (count > 0 && !same_remote(ps.path)) {
      // ngtcp2 moved to another path (the peer's address changed: NAT rebinding, path
      // validation): the batch goes to the old address, this packet to the new one.
      if (flush(tx_.data(), len, gso)) {
        follow_path(ps.path);
        flush(tx_.data() + len, n, n);
      }
      ngtcp2_conn_update_pkt_tx_time(conn_, ts);
      schedule_write();
      break;
    }
    if (count == 0) {
      follow_path(ps.path);
      gso = n;
    } else if (n > gso || (gso > path_max && n != gso)) {
      // Cannot join the batch (larger, or the batch began with a PMTU probe): the batch, then
      // this packet alone.
      if (flush(tx_.data(), len, gso)) flush(tx_.data() + len, n, n);
      ngtcp2_conn_update_pkt_tx_time(conn_, ts);
      schedule_write();
      break;
    }
    len += n;
    ++count;
    if (count >= max_pkts || n < gso) {
      flush(tx_.data(), len, gso);
      ngtcp2_conn_update_pkt_tx_time(conn_, ts);
      schedule_write();
      break;
    }
  }
  if (close_requested_) return start_closing();
  arm_timer();
}

void H3Connection::arm_timer() {
  if (state_ != State::Open) return;
  const ngtcp2_tstamp expiry = ngtcp2_conn_get_expiry(conn_);
  if (expiry == UINT64_MAX) {
    timer_.cancel();
    return;
  }
  const ngtcp2_tstamp t = now_ns();
  const auto wait = std::chrono::nanoseconds(expiry > t ? expiry - t : 0);
  timer_.expires_after(wait);
  timer_.async_wait([weak = weak_from_this()](error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_timer();
  });
}

void H3Connection::on_timer() {
  if (state_ != State::Open) return;
  auto self = shared_from_this();
  const int rv = ngtcp2_conn_handle_expiry(conn_, now_ns());
  if (rv != 0) {
    if (rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) spdlog::info("h3 {}: handshake too slow, closing", peer_);
    return handle_error(rv);
  }
  write();
}

void H3Connection::on_tick() {
  if (state_ != State::Open) return;
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::int64_t> slow, stuck;
  for (const auto& [id, stream] : streams_) {
    if (!stream->dispatched() && now - stream->created() > ctx_->limits.header_timeout) slow.push_back(id);
    else if (stream->stuck(now, ctx_->limits.idle_timeout)) stuck.push_back(id);
  }
  for (const auto id : slow) {
    spdlog::info("h3 {}: stream {}: headers too slow, reset", peer_, id);
    reset_stream(id);
  }
  for (const auto id : stuck) {
    spdlog::info("h3 {}: stream {}: response unacknowledged for {} ms, reset", peer_, id,
                 ctx_->limits.idle_timeout.count());
    reset_stream(id);
  }
  tick_timer_.expires_after(std::chrono::seconds(1));
  tick_timer_.async_wait([weak = weak_from_this()](error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->on_tick();
  });
}

void H3Connection::schedule_room_check() {
  if (room_check_posted_ || state_ != State::Open) return;
  room_check_posted_ = true;
  asio::post(io_, [self = shared_from_this()] {
    self->room_check_posted_ = false;
    if (self->state_ != State::Open) return;
    for (const auto& [id, stream] : self->streams_) {
      if (stream->awaiting_room()) stream->recheck_room();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Streams and flow control.

void H3Connection::credit(std::int64_t stream_id, std::size_t bytes) {
  if (bytes == 0 || state_ != State::Open) return;
  (void)ngtcp2_conn_extend_max_stream_offset(conn_, stream_id, bytes);
  ngtcp2_conn_extend_max_offset(conn_, bytes);
}

void H3Connection::consumed(std::int64_t stream_id, std::size_t bytes) {
  credit(stream_id, bytes);
  schedule_write();  // the new windows go out as MAX_STREAM_DATA / MAX_DATA
}

void H3Connection::reset_stream(std::int64_t stream_id) {
  if (state_ != State::Open || h3_ == nullptr) return;
  spdlog::debug("h3 {}: stream {}: RESET_STREAM + STOP_SENDING", peer_, stream_id);
  (void)ngtcp2_conn_shutdown_stream(conn_, stream_id, NGHTTP3_H3_INTERNAL_ERROR);
  nghttp3_conn_shutdown_stream_write(h3_, stream_id);
  (void)nghttp3_conn_shutdown_stream_read(h3_, stream_id);
  schedule_write();
}

void H3Connection::stop_reading(std::int64_t stream_id) {
  if (state_ != State::Open || h3_ == nullptr) return;
  (void)ngtcp2_conn_shutdown_stream_read(conn_, stream_id, NGHTTP3_H3_NO_ERROR);
  (void)nghttp3_conn_shutdown_stream_read(h3_, stream_id);
  schedule_write();
}

void H3Connection::dispatch(const std::shared_ptr<H3Stream>& stream) {
  stream->set_dispatched();
  asio::post(io_, [ctx = ctx_, stream] {
    try {
      ctx->handler(stream);
    } catch (const std::exception& e) {
      spdlog::error("h3: handler threw: {}", e.what());
      stream->abort_reset();
    }
  });
}

bool H3Connection::setup_http3() {
  if (ngtcp2_conn_get_max_local_streams_uni(conn_) < 3) {
    spdlog::info("h3 {}: the client allows fewer than 3 uni streams", peer_);
    return false;
  }
  nghttp3_callbacks cb{};
  cb.acked_stream_data = &h3_acked;
  cb.stream_close = &h3_close;
  cb.recv_data = &h3_data;
  cb.deferred_consume = &h3_deferred;
  cb.begin_headers = &h3_begin;
  cb.recv_header = &h3_header;
  cb.end_headers = &cb_end_headers;
  cb.stop_sending = &cb_stop_sending;
  cb.end_stream = &cb_end_stream;
  cb.reset_stream = &h3_reset;
  nghttp3_settings settings;
  nghttp3_settings_default(&settings);
  settings.max_field_section_size = ctx_->limits.max_header_bytes;
  settings.qpack_max_dtable_capacity = 4096;
  settings.qpack_blocked_streams = 100;
  if (nghttp3_conn_server_new(&h3_, &cb, &settings, nghttp3_mem_default(), this) != 0) return false;
  // nghttp3 checks PRIORITY_UPDATE against this; it starts at 0.
  nghttp3_conn_set_max_client_streams_bidi(h3_, ngtcp2_conn_get_local_transport_params(conn_)->initial_max_streams_bidi);
  std::int64_t control = -1, encoder = -1, decoder = -1;
  if (ngtcp2_conn_open_uni_stream(conn_, &control, nullptr) != 0 || nghttp3_conn_bind_control_stream(h3_, control) != 0 ||
      ngtcp2_conn_open_uni_stream(conn_, &encoder, nullptr) != 0 ||
      ngtcp2_conn_open_uni_stream(conn_, &decoder, nullptr) != 0 ||
      nghttp3_conn_bind_qpack_streams(h3_, encoder, decoder) != 0)
    return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// ngtcp2 callbacks.

int H3Connection::on_recv_tx_key(ngtcp2_crypto_level level) {
  // On a server the client's transport parameters apply from the 1-RTT tx key on: only now
  // can the uni streams be opened.
  if (level != NGTCP2_CRYPTO_LEVEL_APPLICATION || h3_ != nullptr) return 0;
  return setup_http3() ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

int H3Connection::on_handshake_completed() {
  handshake_done_ = true;
  spdlog::debug("h3 {}: handshake completed", peer_);
  return 0;
}

int H3Connection::on_get_new_connection_id(ngtcp2_cid* cid, std::uint8_t* token, std::size_t cidlen) {
  cid->datalen = cidlen;
  if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, cidlen) != 0) return NGTCP2_ERR_CALLBACK_FAILURE;
  if (ngtcp2_crypto_generate_stateless_reset_token(token, endpoint_->secret().data(), endpoint_->secret().size(), cid) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  endpoint_->associate(*cid, shared_from_this());
  return 0;
}

int H3Connection::on_remove_connection_id(const ngtcp2_cid* cid) {
  endpoint_->dissociate(*cid);
  return 0;
}

int H3Connection::on_recv_stream_data(std::uint32_t flags, std::int64_t stream_id, const std::uint8_t* data,
                                      std::size_t len) {
  if (h3_ == nullptr) return NGTCP2_ERR_CALLBACK_FAILURE;  // 1-RTT data before the tx key: cannot happen
  const nghttp3_ssize n = nghttp3_conn_read_stream(h3_, stream_id, data, len, (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
  if (n < 0) {
    spdlog::info("h3 {}: stream {}: {}", peer_, stream_id, nghttp3_strerror(static_cast<int>(n)));
    ngtcp2_connection_close_error_set_application_error(&last_error_, nghttp3_err_infer_quic_app_error_code(static_cast<int>(n)),
                                                        nullptr, 0);
    error_set_ = true;
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  // Framing and QPACK bytes nghttp3 consumed itself; body bytes are credited when the handler
  // takes them (H3Stream::deliver).
  credit(stream_id, static_cast<std::size_t>(n));
  return 0;
}

int H3Connection::on_acked_stream_data_offset(std::int64_t stream_id, std::uint64_t datalen) {
  if (h3_ != nullptr && nghttp3_conn_add_ack_offset(h3_, stream_id, datalen) != 0) return NGTCP2_ERR_CALLBACK_FAILURE;
  return 0;
}

int H3Connection::on_stream_close(std::uint32_t flags, std::int64_t stream_id, std::uint64_t app_error_code) {
  if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET)) app_error_code = NGHTTP3_H3_NO_ERROR;
  if (h3_ != nullptr) {
    const int rv = nghttp3_conn_close_stream(h3_, stream_id, app_error_code);
    if (rv != 0 && rv != NGHTTP3_ERR_STREAM_NOT_FOUND) {
      ngtcp2_connection_close_error_set_application_error(&last_error_, nghttp3_err_infer_quic_app_error_code(rv), nullptr, 0);
      error_set_ = true;
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
  }
  // One new stream for every one of the client's that ended (stream_open is set, so ngtcp2
  // leaves this to us).
  if (!ngtcp2_conn_is_local_stream(conn_, stream_id)) {
    if (ngtcp2_is_bidi_stream(stream_id)) {
      (void)ngtcp2_conn_extend_max_streams_bidi(conn_, 1);
    } else {
      (void)ngtcp2_conn_extend_max_streams_uni(conn_, 1);
    }
  }
  return 0;
}

int H3Connection::on_stream_reset(std::int64_t stream_id) {
  if (h3_ != nullptr && nghttp3_conn_shutdown_stream_read(h3_, stream_id) != 0) return NGTCP2_ERR_CALLBACK_FAILURE;
  return 0;
}

int H3Connection::on_extend_max_remote_streams_bidi(std::uint64_t max_streams) {
  if (h3_ != nullptr) nghttp3_conn_set_max_client_streams_bidi(h3_, max_streams);
  return 0;
}

int H3Connection::on_extend_max_stream_data(std::int64_t stream_id) {
  if (h3_ != nullptr && nghttp3_conn_unblock_stream(h3_, stream_id) != 0) return NGTCP2_ERR_CALLBACK_FAILURE;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// nghttp3 callbacks.

int H3Connection::h3_acked_stream_data(std::int64_t, std::uint64_t datalen, void* stream_user_data) {
  if (stream_user_data != nullptr) static_cast<H3Stream*>(stream_user_data)->on_acked(datalen);
  return 0;
}

int H3Connection::h3_stream_close(std::int64_t stream_id, std::uint64_t app_error_code, void*) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return 0;
  auto stream = std::move(it->second);
  streams_.erase(it);
  // Bytes that arrived but were never pulled still count against the connection window.
  if (const auto left = stream->unconsumed(); left > 0 && state_ == State::Open)
    ngtcp2_conn_extend_max_offset(conn_, left);
  nghttp3_conn_set_stream_user_data(h3_, stream_id, nullptr);
  stream->on_closed(app_error_code);
  return 0;
}

int H3Connection::h3_recv_data(std::int64_t stream_id, const std::uint8_t* data, std::size_t len, void* sud) {
  auto* stream = static_cast<H3Stream*>(sud);
  if (stream == nullptr || stream->closed()) {
    credit(stream_id, len);  // nobody will pull these
    return 0;
  }
  stream->on_data(data, len);
  return 0;
}

int H3Connection::h3_deferred_consume(std::int64_t stream_id, std::size_t consumed) {
  credit(stream_id, consumed);
  return 0;
}

int H3Connection::h3_begin_headers(std::int64_t stream_id) {
  if (!ngtcp2_is_bidi_stream(stream_id)) return 0;
  Request base;
  base.protocol = "h3";
  base.scheme = "https";
  base.peer = peer_;
  auto stream = std::make_shared<H3Stream>(std::static_pointer_cast<H3Session>(shared_from_this()), stream_id,
                                           std::move(base));
  nghttp3_conn_set_stream_user_data(h3_, stream_id, stream.get());
  streams_[stream_id] = std::move(stream);
  return 0;
}

int H3Connection::h3_recv_header(std::int64_t, nghttp3_rcbuf* name, nghttp3_rcbuf* value, void* sud) {
  auto* stream = static_cast<H3Stream*>(sud);
  if (stream == nullptr || stream->dispatched()) return 0;  // trailers are not kept
  const nghttp3_vec n = nghttp3_rcbuf_get_buf(name);
  const nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
  stream->add_header(std::string_view(reinterpret_cast<const char*>(n.base), n.len),
                     std::string_view(reinterpret_cast<const char*>(v.base), v.len), ctx_->limits);
  return 0;
}

int H3Connection::h3_end_headers(std::int64_t stream_id, int fin, void* sud) {
  auto* stream = static_cast<H3Stream*>(sud);
  if (stream == nullptr || stream->dispatched()) return 0;
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return 0;
  if (fin) stream->on_end_of_request();
  if (stream->too_large()) {
    spdlog::info("h3 {}: stream {}: header block over limits, 431", peer_, stream_id);
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

int H3Connection::h3_end_stream(std::int64_t, void* sud) {
  if (auto* stream = static_cast<H3Stream*>(sud); stream != nullptr) stream->on_end_of_request();
  return 0;
}

int H3Connection::h3_stop_sending(std::int64_t stream_id, std::uint64_t app_error_code) {
  if (ngtcp2_conn_shutdown_stream_read(conn_, stream_id, app_error_code) != 0) return NGHTTP3_ERR_CALLBACK_FAILURE;
  return 0;
}

int H3Connection::h3_reset_stream(std::int64_t stream_id, std::uint64_t app_error_code) {
  if (ngtcp2_conn_shutdown_stream_write(conn_, stream_id, app_error_code) != 0) return NGHTTP3_ERR_CALLBACK_FAILURE;
  return 0;
}

}  // namespace xts::net
