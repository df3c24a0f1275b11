#include "protocols/h3/h3_connection.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include "base/ascii.h"
#include "protocols/h3/h3_stream.h"
#include "protocols/http/url.h"

namespace xfer::protocols::h3 {
namespace {

// Receive windows: a stream may have this much in flight towards us (the bound on what a
// paused stream holds); ngtcp2 widens windows up to the max_* values as the RTT allows.
constexpr std::uint64_t kStreamWindow = 4ull << 20;
constexpr std::uint64_t kMaxStreamWindow = 16ull << 20;
constexpr std::uint64_t kConnectionWindow = 16ull << 20;
constexpr std::uint64_t kMaxConnectionWindow = 64ull << 20;
constexpr std::chrono::seconds kIdleTimeout{30};
// Keep-alive PINGs while the connection is quiet, and how long a connection with streams may
// hear nothing at all before its path counts as gone.
constexpr std::chrono::seconds kKeepAlive{1};
constexpr std::chrono::seconds kSilentPeer{10};
// Read this many datagrams, then write (acknowledgements, window updates) before reading on.
constexpr std::size_t kDatagramsPerRead = 256;
// The most body bytes handed to a sink at once from a stream's backlog.
constexpr std::size_t kMaxDelivery = 256 * 1024;
constexpr std::size_t kMaxDatagram = 64 * 1024;
constexpr std::size_t kCidLength = 18;

// Request fields HTTP/3 forbids (RFC 9114 §4.2) or carries as pseudo-fields.
bool connection_specific(std::string_view lower) {
  return lower == "connection" || lower == "keep-alive" || lower == "proxy-connection" ||
         lower == "transfer-encoding" || lower == "upgrade" || lower == "host" || lower == "te";
}

nghttp3_nv make_nv(const std::string& name, const std::string& value) {
  return nghttp3_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP3_NV_FLAG_NONE};
}

}  // namespace

ngtcp2_tstamp H3Connection::now() {
  return static_cast<ngtcp2_tstamp>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

H3Connection::H3Connection(boost::asio::io_context& io, const TransportSettings& settings,
                           std::shared_ptr<const QuicTlsContext> tls, std::string host)
    : io_(io),
      settings_(settings),
      tls_(std::move(tls)),
      host_(std::move(host)),
      socket_(io),
      timer_(io),
      send_buffer_(kMaxDatagram),
      watchdog_(io) {
  conn_ref_.get_conn = &H3Connection::get_conn;
  conn_ref_.user_data = this;
  ngtcp2_connection_close_error_default(&last_error_);
}

H3Connection::~H3Connection() {
  if (h3_) nghttp3_conn_del(h3_);
  if (conn_) ngtcp2_conn_del(conn_);
  session_.reset();  // after the conn: its callbacks may reach the session until then
}

Result<std::shared_ptr<H3Connection>> H3Connection::open(boost::asio::io_context& io,
                                                         const TransportSettings& settings,
                                                         std::shared_ptr<const QuicTlsContext> tls,
                                                         const std::string& host, std::uint16_t port,
                                                         std::chrono::milliseconds handshake_timeout) {
  // A bracketed IPv6 literal from a URL names the address inside.
  std::string name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
  boost::asio::ip::udp::resolver resolver(io);
  boost::system::error_code ec;
  const auto results = resolver.resolve(name, std::to_string(port), ec);
  if (ec || results.empty())
    return fail(ErrorCategory::Network, fmt::format("cannot resolve {}: {}", name, ec ? ec.message() : "no address"),
                true);
  std::shared_ptr<H3Connection> self(new H3Connection(io, settings, std::move(tls), name));
  if (auto r = self->start(results.begin()->endpoint(), handshake_timeout); !r) return std::unexpected(r.error());
  return self;
}

Result<void> H3Connection::start(const boost::asio::ip::udp::endpoint& remote,
                                 std::chrono::milliseconds handshake_timeout) {
  if (handshake_timeout.count() > 0) handshake_timeout_ = handshake_timeout;
  boost::system::error_code ec;
  socket_.open(remote.protocol(), ec);
  if (!ec) socket_.non_blocking(true, ec);
  // Large buffers: a window of datagrams arrives faster than one loop turn reads them.
  if (!ec) socket_.set_option(boost::asio::socket_base::receive_buffer_size(4 << 20), ec);
  if (!ec) socket_.set_option(boost::asio::socket_base::send_buffer_size(4 << 20), ec);
  if (!ec) socket_.connect(remote, ec);
  if (ec) return fail(ErrorCategory::Network, fmt::format("UDP socket to {}: {}", host_, ec.message()), true);
  // The path ngtcp2 knows must be the concrete addresses packets carry, or it ignores them.
  local_len_ = sizeof(local_addr_);
  if (::getsockname(socket_.native_handle(), reinterpret_cast<sockaddr*>(&local_addr_), &local_len_) != 0)
    return fail(ErrorCategory::Network, fmt::format("getsockname: {}", std::strerror(errno)), true);
  std::memcpy(&remote_addr_, remote.data(), remote.size());
  remote_len_ = static_cast<socklen_t>(remote.size());
  udp_ = std::make_unique<UdpBatch>(socket_.native_handle());

  auto session = QuicTlsSession::create(*tls_, host_, &conn_ref_);
  if (!session) return std::unexpected(session.error());
  session_ = std::move(*session);

  ngtcp2_callbacks callbacks{};
  callbacks.client_initial = ngtcp2_crypto_client_initial_cb;
  callbacks.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  callbacks.encrypt = ngtcp2_crypto_encrypt_cb;
  callbacks.decrypt = ngtcp2_crypto_decrypt_cb;
  callbacks.hp_mask = ngtcp2_crypto_hp_mask_cb;
  callbacks.recv_retry = ngtcp2_crypto_recv_retry_cb;
  callbacks.update_key = ngtcp2_crypto_update_key_cb;
  callbacks.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  callbacks.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  callbacks.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  callbacks.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  callbacks.rand = &H3Connection::on_rand;
  callbacks.get_new_connection_id = &H3Connection::on_get_new_connection_id;
  callbacks.recv_stream_data = &H3Connection::on_recv_stream_data;
  callbacks.acked_stream_data_offset = &H3Connection::on_acked_stream_data_offset;
  callbacks.stream_close = &H3Connection::on_stream_close;
  callbacks.stream_reset = &H3Connection::on_stream_reset;
  callbacks.stream_stop_sending = &H3Connection::on_stream_stop_sending;
  callbacks.extend_max_local_streams_bidi = &H3Connection::on_extend_max_local_streams_bidi;
  callbacks.extend_max_stream_data = &H3Connection::on_extend_max_stream_data;
  callbacks.handshake_completed = &H3Connection::on_handshake_completed;
  callbacks.recv_rx_key = &H3Connection::on_recv_rx_key;

  ngtcp2_settings settings;
  ngtcp2_settings_default(&settings);
  settings.initial_ts = now();
  settings.handshake_timeout = static_cast<ngtcp2_duration>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(handshake_timeout_).count());
  settings.max_window = kMaxConnectionWindow;
  settings.max_stream_window = kMaxStreamWindow;
  ngtcp2_transport_params params;
  ngtcp2_transport_params_default(&params);
  params.initial_max_data = kConnectionWindow;
  params.initial_max_stream_data_bidi_local = kStreamWindow;
  params.initial_max_stream_data_bidi_remote = kStreamWindow;
  params.initial_max_stream_data_uni = kStreamWindow;
  params.initial_max_streams_bidi = 0;  // HTTP/3 servers open no request streams
  params.initial_max_streams_uni = 100;
  params.max_idle_timeout = static_cast<ngtcp2_duration>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(kIdleTimeout).count());
  params.active_connection_id_limit = 7;

  ngtcp2_cid dcid, scid;
  dcid.datalen = scid.datalen = kCidLength;
  if (gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen) != 0 ||
      gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen) != 0)
    return fail(ErrorCategory::Internal, "no random bytes for connection IDs");
  ngtcp2_path path{{reinterpret_cast<ngtcp2_sockaddr*>(&local_addr_), local_len_},
                   {reinterpret_cast<ngtcp2_sockaddr*>(&remote_addr_), remote_len_},
                   nullptr};
  if (const int rv = ngtcp2_conn_client_new(&conn_, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1,
                                            &callbacks, &settings, &params, nullptr, this);
      rv != 0)
    return fail(ErrorCategory::Internal, fmt::format("ngtcp2_conn_client_new: {}", ngtcp2_strerror(rv)));
  ngtcp2_conn_set_tls_native_handle(conn_, session_->native());
  // A PING after a second without ack-eliciting traffic: a live server answers it even while
  // every stream is paused, so silence means the path is gone (see on_watchdog).
  ngtcp2_conn_set_keep_alive_timeout(
      conn_, static_cast<ngtcp2_duration>(std::chrono::duration_cast<std::chrono::nanoseconds>(kKeepAlive).count()));
  last_heard_ = std::chrono::steady_clock::now();
  wait_readable();
  write();  // the Initial: it starts the handshake
  if (closed_) return std::unexpected(callback_error_.value_or(Error(ErrorCategory::Network, "QUIC connection failed", true)));
  return {};
}

// ---- requests ----------------------------------------------------------------------------------

void H3Connection::submit(H3Stream& stream) {
  pending_.push_back(&stream);
  // Never from inside a callback of ours: the caller may be a sink reacting to an event.
  schedule_write();
}

void H3Connection::detach(H3Stream& stream) {
  pending_.erase(std::remove(pending_.begin(), pending_.end(), &stream), pending_.end());
  if (stream.id_ < 0) {
    close_if_orphaned();
    return;
  }
  const auto it = streams_.find(stream.id_);
  if (it == streams_.end() || it->second != &stream) {
    close_if_orphaned();
    return;
  }
  streams_.erase(it);
  release_backlog(stream);
  end_request_body(stream.id_, false);  // the whole stream is cancelled just below
  if (!closed_ && conn_) {
    if (h3_) {
      nghttp3_conn_set_stream_user_data(h3_, stream.id_, nullptr);
      (void)nghttp3_conn_shutdown_stream_read(h3_, stream.id_);
    }
    (void)ngtcp2_conn_shutdown_stream(conn_, stream.id_, NGHTTP3_H3_REQUEST_CANCELLED);
    schedule_write();
  }
  close_if_orphaned();
}

void H3Connection::orphan() {
  orphaned_ = true;
  close_if_orphaned();
}

void H3Connection::close_if_orphaned() {
  if (!orphaned_ || closed_ || open_streams() != 0) return;
  // Outside whatever callback brought us here.
  boost::asio::post(io_, [self = shared_from_this()] {
    if (self->open_streams() == 0) self->close();
  });
}

void H3Connection::resume_receive(H3Stream& stream) {
  // Deferred: the sink may be calling from inside one of our callbacks.
  boost::asio::post(io_, [self = shared_from_this(), id = stream.id_] {
    if (H3Stream* s = self->stream_for(id)) self->drain(*s);
    self->write();
  });
}

void H3Connection::open_pending() {
  while (!pending_.empty() && h3_ && handshake_done_ && !closed_ && !going_away_) {
    if (ngtcp2_conn_get_streams_bidi_left(conn_) == 0) return;  // more when the server allows
    H3Stream* stream = pending_.front();
    pending_.pop_front();
    if (auto r = start_request(*stream); !r) stream->complete(std::move(r));
  }
}

Result<void> H3Connection::start_request(H3Stream& stream) {
  const HttpRequest& request = stream.request_;
  auto url = Url::parse_http(request.url);
  if (!url) return std::unexpected(url.error());
  std::int64_t id = -1;
  if (const int rv = ngtcp2_conn_open_bidi_stream(conn_, &id, nullptr); rv != 0)
    return fail(ErrorCategory::Network, fmt::format("cannot open an HTTP/3 stream: {}", ngtcp2_strerror(rv)), true);
  std::vector<std::pair<std::string, std::string>> fields;
  std::string authority = url->host.value_or("");
  if (url->port && *url->port != 443) authority += ":" + std::to_string(*url->port);
  std::string path = url->path.empty() ? "/" : url->path;
  if (url->query) path += "?" + *url->query;
  fields.emplace_back(":method", request.method);
  fields.emplace_back(":scheme", url->scheme);
  fields.emplace_back(":authority", authority);
  fields.emplace_back(":path", path);
  bool has_agent = false;
  for (const auto& [name, value] : request.headers) {
    const std::string lower = ascii_lower(name);
    if (connection_specific(lower)) continue;
    if (lower == "user-agent") has_agent = true;
    fields.emplace_back(lower, value);
  }
  if (!has_agent && !settings_.user_agent.empty()) fields.emplace_back("user-agent", settings_.user_agent);
  if (request.body_length) fields.emplace_back("content-length", std::to_string(*request.body_length));
  std::vector<nghttp3_nv> nva;
  nva.reserve(fields.size());
  for (const auto& [name, value] : fields) nva.push_back(make_nv(name, value));
  // A body the server must wait for is read as nghttp3 asks (flow control paces it); an empty one
  // ends the stream with the headers.
  const bool has_body = request.body_length && *request.body_length > 0;
  if (has_body) bodies_[id] = std::make_unique<RequestBody>(*request.body_length, kStreamWindow, &stream.sink_);
  nghttp3_data_reader reader{&H3Connection::h3_read_data};
  if (const int rv = nghttp3_conn_submit_request(h3_, id, nva.data(), nva.size(), has_body ? &reader : nullptr,
                                                 &stream);
      rv != 0) {
    bodies_.erase(id);
    (void)ngtcp2_conn_shutdown_stream(conn_, id, NGHTTP3_H3_INTERNAL_ERROR);
    // A connection the server is shutting down takes no new requests: another one will.
    if (rv == NGHTTP3_ERR_CONN_CLOSING) {
      going_away_ = true;
      return fail(ErrorCategory::Network, fmt::format("HTTP/3 to {}: the server is closing the connection", host_), true);
    }
    return fail(ErrorCategory::Internal, fmt::format("nghttp3_conn_submit_request: {}", nghttp3_strerror(rv)));
  }
  stream.id_ = id;
  stream.window_start_ = std::chrono::steady_clock::now();
  streams_[id] = &stream;
  arm_watchdog();
  return {};
}

void H3Connection::arm_watchdog() {
  if (watchdog_armed_ || closed_) return;
  watchdog_armed_ = true;
  watchdog_.expires_after(std::chrono::seconds(1));
  watchdog_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->watchdog_armed_ = false;
    if (ec || self->closed_) return;
    self->on_watchdog();
  });
}

void H3Connection::on_watchdog() {
  const auto t = std::chrono::steady_clock::now();
  // UDP blocked mid-transfer (a firewall, a NAT that forgot us): QUIC's idle timeout would take
  // 30 s to say so; the keep-alive PINGs make silence mean it sooner. Retryable: the engine's
  // next attempt finds no handshake and the router falls back to TCP.
  if (handshake_done_ && t - last_heard_ > kSilentPeer) {
    fail_connection(Error(ErrorCategory::Network,
                          fmt::format("HTTP/3 to {}: no packet from the server for {} s (UDP blocked?)", host_,
                                      kSilentPeer.count()),
                          true),
                    false);
    return;
  }
  std::vector<std::int64_t> slow;
  for (auto& [id, stream] : streams_) {
    const HttpRequest& r = stream->request_;
    // A paused stream is slow by our choice, not the server's (so is an upload whose sink holds
    // its bytes back: the rate limit).
    const auto body = bodies_.find(id);
    const bool held_back = body != bodies_.end() && body->second->paused_by_sink();
    if (stream->paused_ || held_back || r.low_speed_bytes_per_sec == 0 || r.low_speed_seconds == 0) {
      stream->window_start_ = t;
      stream->window_bytes_ = stream->moved_;
      continue;
    }
    const auto window = std::chrono::seconds(r.low_speed_seconds);
    if (t - stream->window_start_ < window) continue;
    const double seconds = std::chrono::duration<double>(t - stream->window_start_).count();
    const double rate = static_cast<double>(stream->moved_ - stream->window_bytes_) / seconds;
    if (rate < r.low_speed_bytes_per_sec) slow.push_back(id);
    stream->window_start_ = t;
    stream->window_bytes_ = stream->moved_;
  }
  for (const std::int64_t id : slow) {
    H3Stream* stream = stream_for(id);
    if (!stream) continue;
    const HttpRequest r = stream->request_;
    finish_stream(id, std::unexpected(Error(ErrorCategory::Network,
                                            fmt::format("HTTP/3 from {}: less than {} bytes/s for {} s", host_,
                                                        r.low_speed_bytes_per_sec, r.low_speed_seconds),
                                            true)));
    if (h3_) (void)nghttp3_conn_shutdown_stream_read(h3_, id);
    (void)ngtcp2_conn_shutdown_stream(conn_, id, NGHTTP3_H3_REQUEST_CANCELLED);
  }
  if (!slow.empty()) write();
  if (!streams_.empty()) arm_watchdog();
}

H3Stream* H3Connection::stream_for(std::int64_t id) {
  const auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second;
}

void H3Connection::finish_stream(std::int64_t id, Result<void> outcome) {
  H3Stream* stream = stream_for(id);
  if (!stream) return;
  // Bytes that arrived before a reset are the sink's if it takes them: a resumed download then
  // starts after them, not before.
  if (!outcome && !stream->paused_ && !deliver_backlog(*stream)) return;
  streams_.erase(id);
  release_backlog(*stream);
  end_request_body(id, true);
  stream->complete(std::move(outcome));
  close_if_orphaned();
}

void H3Connection::end_request_body(std::int64_t stream_id, bool cut_off_on_wire) {
  const auto it = bodies_.find(stream_id);
  if (it == bodies_.end()) return;
  it->second->detach_sink();
  // A response may end before the request body does (RFC 9114 4.1: the server then asks us to
  // stop with STOP_SENDING, but need not); the rest is not sent.
  // Until the server acknowledged every byte (not merely until the sink was read to its end):
  // a server that answered early and stopped crediting the stream would pin it open forever.
  // Deferred: this may run inside one of nghttp3's callbacks.
  if (cut_off_on_wire && !it->second->all_acked() && conn_ && !closed_) {
    boost::asio::post(io_, [self = shared_from_this(), stream_id] {
      const auto body = self->bodies_.find(stream_id);
      if (self->closed_ || !self->conn_ || body == self->bodies_.end() || body->second->all_acked()) return;
      if (self->h3_) nghttp3_conn_shutdown_stream_write(self->h3_, stream_id);
      (void)ngtcp2_conn_shutdown_stream_write(self->conn_, stream_id, NGHTTP3_H3_REQUEST_CANCELLED);
      self->write();
    });
  }
}

void H3Connection::resume_send(H3Stream& stream) {
  // Deferred: the sink may be calling from inside nghttp3's read_data.
  boost::asio::post(io_, [self = shared_from_this(), id = stream.id_] {
    const auto it = self->bodies_.find(id);
    if (it == self->bodies_.end() || !it->second->paused_by_sink() || self->closed_ || !self->h3_) return;
    it->second->sink_resumed();
    (void)nghttp3_conn_resume_stream(self->h3_, id);
    self->write();
  });
}

void H3Connection::release_backlog(H3Stream& stream) {
  const std::size_t untaken = stream.backlog_.size() - stream.backlog_from_;
  if (untaken > 0 && conn_ && !closed_) {
    ngtcp2_conn_extend_max_offset(conn_, untaken);
    schedule_write();
  }
  stream.backlog_.clear();
  stream.backlog_from_ = 0;
}

// ---- receiving body bytes under flow control ---------------------------------------------------

void H3Connection::credit(std::int64_t stream_id, std::size_t bytes) {
  if (bytes == 0 || !conn_) return;
  (void)ngtcp2_conn_extend_max_stream_offset(conn_, stream_id, bytes);
  ngtcp2_conn_extend_max_offset(conn_, bytes);
}

void H3Connection::deliver_batch() {
  std::vector<std::int64_t> ids;
  ids.swap(to_deliver_);
  for (const std::int64_t id : ids)
    if (H3Stream* stream = stream_for(id)) drain(*stream);
}

bool H3Connection::deliver_backlog(H3Stream& stream) {
  const std::int64_t id = stream.id_;
  while (!stream.paused_ && stream.backlog_from_ < stream.backlog_.size()) {
    // In pieces: the sink takes all of each piece either way, and its Pause (a rate limit) must
    // act before the next, not after a whole window of backlog.
    const std::span<const std::uint8_t> data(
        stream.backlog_.data() + stream.backlog_from_,
        std::min(kMaxDelivery, stream.backlog_.size() - stream.backlog_from_));
    if (stream.sink_.on_body(data) == BodyAction::Pause) stream.paused_ = true;
    stream.backlog_from_ += data.size();
    credit(id, data.size());
    if (!stream_for(id)) return false;  // the sink's reaction ended it
  }
  if (stream.backlog_from_ == stream.backlog_.size()) {
    stream.backlog_.clear();
    stream.backlog_from_ = 0;
  }
  return true;
}

void H3Connection::drain(H3Stream& stream) {
  if (!deliver_backlog(stream)) return;
  if (stream.ended_ && stream.backlog_.empty()) finish_stream(stream.id_, {});
}

// ---- I/O ---------------------------------------------------------------------------------------

void H3Connection::wait_readable() {
  if (closed_) return;
  socket_.async_wait(boost::asio::ip::udp::socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       if (ec || self->closed_) return;
                       self->on_readable();
                     });
}

void H3Connection::on_readable() {
  reading_batch_ = true;
  const long n = udp_->receive(kDatagramsPerRead,
                               [this](std::span<const std::uint8_t> datagram, const sockaddr_storage& from,
                                      socklen_t from_len) { return read_datagram(datagram, from, from_len); });
  reading_batch_ = false;
  if (closed_) return;
  deliver_batch();
  if (closed_) return;
  if (n < 0 && n != -EAGAIN && n != -EWOULDBLOCK && n != -EINTR) {
    const int err = static_cast<int>(-n);
    // A connected UDP socket reports the ICMP errors of its peer here.
    fail_connection(Error(ErrorCategory::Network,
                          fmt::format("HTTP/3 to {}: {}{}", host_, std::strerror(err),
                                      err == ECONNREFUSED ? " (nothing answers on that UDP port)" : ""),
                          true),
                    true);
    return;
  }
  write();
  wait_readable();
}

bool H3Connection::read_datagram(std::span<const std::uint8_t> datagram, const sockaddr_storage& from,
                                 socklen_t from_len) {
  ngtcp2_path path{{reinterpret_cast<ngtcp2_sockaddr*>(&local_addr_), local_len_},
                   {reinterpret_cast<ngtcp2_sockaddr*>(const_cast<sockaddr_storage*>(&from)), from_len},
                   nullptr};
  ngtcp2_pkt_info pi{};
  const int rv = ngtcp2_conn_read_pkt(conn_, &path, &pi, datagram.data(), datagram.size(), now());
  if (rv == 0) {
    last_heard_ = std::chrono::steady_clock::now();
    return true;
  }
  if (rv == NGTCP2_ERR_DRAINING) {
    fail_connection(error_for(rv, "the server closed the connection"), true);
    return false;
  }
  if (!last_error_.error_code) {
    if (rv == NGTCP2_ERR_CRYPTO)
      ngtcp2_connection_close_error_set_transport_error_tls_alert(&last_error_, ngtcp2_conn_get_tls_alert(conn_),
                                                                  nullptr, 0);
    else
      ngtcp2_connection_close_error_set_transport_error_liberr(&last_error_, rv, nullptr, 0);
  }
  fail_connection(error_for(rv, "reading"), false);
  return false;
}

Error H3Connection::error_for(int liberr, const char* during) const {
  if (callback_error_) return *callback_error_;
  if (liberr == NGTCP2_ERR_CRYPTO) {
    std::string why = session_ ? session_->verification_failure() : std::string();
    if (!why.empty())
      return Error(ErrorCategory::Tls,
                   fmt::format("HTTP/3 to {}: the server's certificate is not trusted: {}", host_, why));
    return Error(ErrorCategory::Tls,
                 fmt::format("HTTP/3 to {}: TLS handshake failed (alert {})", host_,
                             conn_ ? ngtcp2_conn_get_tls_alert(conn_) : 0));
  }
  if (liberr == NGTCP2_ERR_DRAINING && conn_) {
    ngtcp2_connection_close_error peer{};
    ngtcp2_conn_get_connection_close_error(conn_, &peer);
    const std::string reason =
        peer.reasonlen ? ": " + std::string(reinterpret_cast<const char*>(peer.reason), peer.reasonlen) : "";
    return Error(ErrorCategory::Network,
                 fmt::format("HTTP/3 to {}: the server closed the connection (error 0x{:x}{})", host_,
                             peer.error_code, reason),
                 true);
  }
  if (liberr == NGTCP2_ERR_HANDSHAKE_TIMEOUT)
    return Error(ErrorCategory::Network,
                 fmt::format("HTTP/3 to {}: no QUIC handshake within {} ms (is UDP blocked?)", host_,
                             handshake_timeout_.count()),
                 true);
  if (liberr == NGTCP2_ERR_IDLE_CLOSE)
    return Error(ErrorCategory::Network, fmt::format("HTTP/3 to {}: the connection went idle", host_), true);
  return Error(ErrorCategory::Network,
               fmt::format("HTTP/3 to {}: {} failed: {}", host_, during, ngtcp2_strerror(liberr)), true);
}

void H3Connection::schedule_write() {
  if (write_scheduled_ || closed_) return;
  write_scheduled_ = true;
  boost::asio::post(io_, [self = shared_from_this()] {
    self->write_scheduled_ = false;
    self->write();
  });
}

bool H3Connection::send_run(std::size_t len, std::size_t segment) {
  if (len == 0) return true;
  std::size_t sent = 0;
  if (udp_->send({send_buffer_.data(), len}, segment, sent) != UdpBatch::SendOutcome::WouldBlock) return true;
  // Anything else (EMSGSIZE: a path-MTU probe larger than the path) is a lost packet, which
  // QUIC recovers from; only a full socket buffer keeps packets for later.
  blocked_.push_back({std::vector<std::uint8_t>(send_buffer_.begin() + static_cast<std::ptrdiff_t>(sent),
                                                send_buffer_.begin() + static_cast<std::ptrdiff_t>(len)),
                      segment});
  return false;
}

bool H3Connection::send_blocked() {
  while (!blocked_.empty()) {
    BlockedRun& run = blocked_.front();
    std::size_t sent = 0;
    if (udp_->send(run.packets, run.segment, sent) == UdpBatch::SendOutcome::WouldBlock) {
      run.packets.erase(run.packets.begin(), run.packets.begin() + static_cast<std::ptrdiff_t>(sent));
      return false;
    }
    blocked_.pop_front();
  }
  return true;
}

void H3Connection::write() {
  if (closed_ || !conn_) return;
  open_pending();
  if (h3_)
    for (const std::int64_t id : resume_bodies_) (void)nghttp3_conn_resume_stream(h3_, id);
  resume_bodies_.clear();
  if (!send_blocked()) {
    wait_writable();
    return;
  }
  const std::size_t max_udp = ngtcp2_conn_get_max_tx_udp_payload_size(conn_);
  const std::size_t quantum = std::max<std::size_t>(ngtcp2_conn_get_send_quantum(conn_), max_udp);
  // The send quantum is what pacing allows now; one GSO run holds at most what fits the buffer.
  const std::size_t max_packets =
      std::clamp<std::size_t>(quantum / max_udp, 1, std::min(UdpBatch::kMaxSegments, send_buffer_.size() / max_udp));
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info pi{};
  const ngtcp2_tstamp ts = now();
  std::size_t packets = 0;
  std::size_t run = 0;      // bytes of the run being built at the front of send_buffer_
  std::size_t segment = 0;  // the size of its packets: the first one's
  const auto blocked = [&] {
    ngtcp2_conn_update_pkt_tx_time(conn_, ts);
    wait_writable();
  };
  while (packets < max_packets) {
    std::int64_t stream_id = -1;
    int fin = 0;
    nghttp3_vec vec[16];
    nghttp3_ssize nvec = 0;
    if (h3_ && ngtcp2_conn_get_max_data_left(conn_) > 0) {
      nvec = nghttp3_conn_writev_stream(h3_, &stream_id, &fin, vec, 16);
      if (nvec < 0) {
        ngtcp2_connection_close_error_set_application_error(
            &last_error_, nghttp3_err_infer_quic_app_error_code(static_cast<int>(nvec)), nullptr, 0);
        fail_connection(Error(ErrorCategory::Protocol,
                   fmt::format("HTTP/3 to {}: {}", host_, nghttp3_strerror(static_cast<int>(nvec)))),
             false);
        return;
      }
    }
    std::uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
    if (fin) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
    ngtcp2_ssize ndatalen = -1;
    const ngtcp2_ssize nwrite = ngtcp2_conn_writev_stream(
        conn_, &ps.path, &pi, send_buffer_.data() + run, max_udp, &ndatalen, flags, stream_id,
        reinterpret_cast<const ngtcp2_vec*>(vec), static_cast<std::size_t>(nvec), ts);
    if (nwrite < 0) {
      if (nwrite == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
        (void)nghttp3_conn_block_stream(h3_, stream_id);
        continue;
      }
      if (nwrite == NGTCP2_ERR_STREAM_SHUT_WR) {
        (void)nghttp3_conn_shutdown_stream_write(h3_, stream_id);
        continue;
      }
      if (nwrite == NGTCP2_ERR_WRITE_MORE) {
        if (h3_ && ndatalen >= 0) (void)nghttp3_conn_add_write_offset(h3_, stream_id, static_cast<std::size_t>(ndatalen));
        continue;
      }
      ngtcp2_connection_close_error_set_transport_error_liberr(&last_error_, static_cast<int>(nwrite), nullptr, 0);
      fail_connection(error_for(static_cast<int>(nwrite), "writing"), false);
      return;
    }
    if (h3_ && ndatalen >= 0 && stream_id >= 0)
      (void)nghttp3_conn_add_write_offset(h3_, stream_id, static_cast<std::size_t>(ndatalen));
    if (nwrite == 0) break;
    ++packets;
    const auto size = static_cast<std::size_t>(nwrite);
    if (run > 0 && size > segment) {
      // Larger than the run's packets: the run leaves first, this packet starts the next one.
      const bool sent = send_run(run, segment);
      std::memmove(send_buffer_.data(), send_buffer_.data() + run, size);
      run = size;
      segment = size;
      if (!sent) {
        blocked_.push_back({std::vector<std::uint8_t>(send_buffer_.begin(), send_buffer_.begin() + static_cast<std::ptrdiff_t>(size)), segment});
        return blocked();
      }
      continue;
    }
    if (run == 0) segment = size;
    run += size;
    // A shorter packet can only end a run (GSO cuts every piece but the last to `segment`).
    if (size < segment || packets == max_packets || send_buffer_.size() - run < max_udp) {
      if (!send_run(run, segment)) return blocked();
      run = 0;
    }
  }
  // Whatever is left, and then pacing decides when the rest goes (the timer).
  if (!send_run(run, segment)) return blocked();
  ngtcp2_conn_update_pkt_tx_time(conn_, ts);
  arm_timer();
}

void H3Connection::wait_writable() {
  if (waiting_writable_ || closed_) return;
  waiting_writable_ = true;
  socket_.async_wait(boost::asio::ip::udp::socket::wait_write,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       self->waiting_writable_ = false;
                       if (ec || self->closed_) return;
                       self->write();
                     });
}

void H3Connection::arm_timer() {
  if (closed_ || !conn_) return;
  const ngtcp2_tstamp expiry = ngtcp2_conn_get_expiry(conn_);
  if (expiry == UINT64_MAX) {
    timer_.cancel();
    return;
  }
  const ngtcp2_tstamp t = now();
  const auto wait = std::chrono::nanoseconds(expiry > t ? expiry - t : 0);
  timer_.expires_after(wait);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_) return;
    self->on_timer();
  });
}

void H3Connection::on_timer() {
  const int rv = ngtcp2_conn_handle_expiry(conn_, now());
  if (rv != 0) {
    // Idle: nothing to say to the server. Anything else (a handshake timeout): say why.
    fail_connection(error_for(rv, "a timer"), rv == NGTCP2_ERR_IDLE_CLOSE || rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT);
    return;
  }
  write();
}

void H3Connection::fail_connection(const Error& error, bool silent) {
  if (closed_) return;
  closed_ = true;
  if (!silent && conn_ && !ngtcp2_conn_is_in_closing_period(conn_) &&
      !ngtcp2_conn_is_in_draining_period(conn_)) {
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info pi{};
    const ngtcp2_ssize n = ngtcp2_conn_write_connection_close(conn_, &ps.path, &pi, send_buffer_.data(),
                                                              send_buffer_.size(), &last_error_, now());
    if (n > 0) (void)::send(socket_.native_handle(), send_buffer_.data(), static_cast<std::size_t>(n), 0);
  }
  boost::system::error_code ignored;
  timer_.cancel();
  watchdog_.cancel();
  socket_.cancel(ignored);
  socket_.close(ignored);
  // Every stream hears of it, once, after the bookkeeping is done.
  std::vector<H3Stream*> affected(pending_.begin(), pending_.end());
  for (const auto& [id, stream] : streams_) affected.push_back(stream);
  pending_.clear();
  streams_.clear();
  for (H3Stream* stream : affected) stream->complete(std::unexpected(error));
}

void H3Connection::close() {
  if (closed_) return;
  ngtcp2_connection_close_error_set_application_error(&last_error_, NGHTTP3_H3_NO_ERROR, nullptr, 0);
  fail_connection(Error(ErrorCategory::Network, fmt::format("HTTP/3 to {}: the connection was closed", host_), true), false);
}

// ---- HTTP/3 ------------------------------------------------------------------------------------

Result<void> H3Connection::setup_http3() {
  if (ngtcp2_conn_get_max_local_streams_uni(conn_) < 3)
    return fail(ErrorCategory::Protocol, "the server allows fewer than the 3 unidirectional streams HTTP/3 needs");
  nghttp3_callbacks callbacks{};
  callbacks.stream_close = &H3Connection::h3_stream_close;
  callbacks.recv_data = &H3Connection::h3_recv_data;
  callbacks.deferred_consume = &H3Connection::h3_deferred_consume;
  callbacks.begin_headers = &H3Connection::h3_begin_headers;
  callbacks.recv_header = &H3Connection::h3_recv_header;
  callbacks.end_headers = &H3Connection::h3_end_headers;
  callbacks.begin_trailers = &H3Connection::h3_begin_headers;
  callbacks.recv_trailer = &H3Connection::h3_recv_header;
  callbacks.end_trailers = &H3Connection::h3_end_headers;
  callbacks.stop_sending = &H3Connection::h3_stop_sending;
  callbacks.end_stream = &H3Connection::h3_end_stream;
  callbacks.reset_stream = &H3Connection::h3_reset_stream;
  callbacks.acked_stream_data = &H3Connection::h3_acked_stream_data;
  callbacks.shutdown = &H3Connection::h3_shutdown;
  nghttp3_settings settings;
  nghttp3_settings_default(&settings);
  settings.qpack_max_dtable_capacity = 4096;
  settings.qpack_blocked_streams = 100;
  if (const int rv = nghttp3_conn_client_new(&h3_, &callbacks, &settings, nghttp3_mem_default(), this); rv != 0)
    return fail(ErrorCategory::Internal, fmt::format("nghttp3_conn_client_new: {}", nghttp3_strerror(rv)));
  std::int64_t control = -1, encoder = -1, decoder = -1;
  if (ngtcp2_conn_open_uni_stream(conn_, &control, nullptr) != 0 ||
      nghttp3_conn_bind_control_stream(h3_, control) != 0 ||
      ngtcp2_conn_open_uni_stream(conn_, &encoder, nullptr) != 0 ||
      ngtcp2_conn_open_uni_stream(conn_, &decoder, nullptr) != 0 ||
      nghttp3_conn_bind_qpack_streams(h3_, encoder, decoder) != 0)
    return fail(ErrorCategory::Internal, "cannot open HTTP/3's control and QPACK streams");
  return {};
}

// ---- ngtcp2 callbacks --------------------------------------------------------------------------

ngtcp2_conn* H3Connection::get_conn(ngtcp2_crypto_conn_ref* ref) {
  return static_cast<H3Connection*>(ref->user_data)->conn_;
}

void H3Connection::on_rand(std::uint8_t* dest, std::size_t destlen, const ngtcp2_rand_ctx*) {
  (void)gnutls_rnd(GNUTLS_RND_RANDOM, dest, destlen);
}

int H3Connection::on_get_new_connection_id(ngtcp2_conn*, ngtcp2_cid* cid, std::uint8_t* token,
                                           std::size_t cidlen, void*) {
  if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, cidlen) != 0 ||
      gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  cid->datalen = cidlen;
  return 0;
}

int H3Connection::on_recv_rx_key(ngtcp2_conn*, ngtcp2_crypto_level level, void* user_data) {
  auto* self = static_cast<H3Connection*>(user_data);
  if (level != NGTCP2_CRYPTO_LEVEL_APPLICATION || self->h3_) return 0;
  if (auto r = self->setup_http3(); !r) {
    self->callback_error_ = r.error();
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

int H3Connection::on_handshake_completed(ngtcp2_conn*, void* user_data) {
  auto* self = static_cast<H3Connection*>(user_data);
  self->handshake_done_ = true;
  return 0;
}

int H3Connection::on_extend_max_local_streams_bidi(ngtcp2_conn*, std::uint64_t, void* user_data) {
  // Streams are opened in write(), outside ngtcp2's callbacks.
  static_cast<H3Connection*>(user_data)->schedule_write();
  return 0;
}

int H3Connection::on_recv_stream_data(ngtcp2_conn*, std::uint32_t flags, std::int64_t stream_id,
                                      std::uint64_t, const std::uint8_t* data, std::size_t datalen,
                                      void* user_data, void*) {
  auto* self = static_cast<H3Connection*>(user_data);
  if (!self->h3_) return 0;
  const nghttp3_ssize n = nghttp3_conn_read_stream(self->h3_, stream_id, data, datalen,
                                                   (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
  if (n < 0) {
    ngtcp2_connection_close_error_set_application_error(
        &self->last_error_, nghttp3_err_infer_quic_app_error_code(static_cast<int>(n)), nullptr, 0);
    if (!self->callback_error_)
      self->callback_error_ = Error(ErrorCategory::Protocol,
                                    fmt::format("HTTP/3 from {}: {}", self->host_, nghttp3_strerror(static_cast<int>(n))));
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  // Framing and header bytes are consumed at once; body bytes when the sink takes them.
  self->credit(stream_id, static_cast<std::size_t>(n));
  return 0;
}

int H3Connection::on_acked_stream_data_offset(ngtcp2_conn*, std::int64_t stream_id, std::uint64_t,
                                              std::uint64_t datalen, void* user_data, void*) {
  auto* self = static_cast<H3Connection*>(user_data);
  if (self->h3_ && nghttp3_conn_add_ack_offset(self->h3_, stream_id, datalen) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  return 0;
}

int H3Connection::on_stream_close(ngtcp2_conn*, std::uint32_t flags, std::int64_t stream_id,
                                  std::uint64_t app_error_code, void* user_data, void*) {
  auto* self = static_cast<H3Connection*>(user_data);
  if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET)) app_error_code = NGHTTP3_H3_NO_ERROR;
  if (self->h3_) {
    const int rv = nghttp3_conn_close_stream(self->h3_, stream_id, app_error_code);
    if (rv == NGHTTP3_ERR_STREAM_NOT_FOUND) {
      if (!ngtcp2_is_bidi_stream(stream_id)) ngtcp2_conn_extend_max_streams_uni(self->conn_, 1);
    } else if (rv != 0) {
      ngtcp2_connection_close_error_set_application_error(
          &self->last_error_, nghttp3_err_infer_quic_app_error_code(rv), nullptr, 0);
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
  }
  self->bodies_.erase(stream_id);  // nghttp3 holds no pointer into it any more
  // A stream that closed before its response ended was cut off.
  if (H3Stream* s = self->stream_for(stream_id); s && !s->ended_)
    self->finish_stream(stream_id, std::unexpected(Error(
                                       ErrorCategory::Network,
                                       fmt::format("HTTP/3 from {}: the stream closed before the response "
                                                   "ended (error 0x{:x})",
                                                   self->host_, app_error_code),
                                       true)));
  return 0;
}

int H3Connection::on_stream_reset(ngtcp2_conn*, std::int64_t stream_id, std::uint64_t,
                                  std::uint64_t app_error_code, void* user_data, void*) {
  auto* self = static_cast<H3Connection*>(user_data);
  if (self->h3_ && nghttp3_conn_shutdown_stream_read(self->h3_, stream_id) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  if (H3Stream* s = self->stream_for(stream_id); s && !s->ended_)
    self->finish_stream(stream_id,
                        std::unexpected(Error(ErrorCategory::Network,
                                              fmt::format("HTTP/3 from {}: the server reset the stream "
                                                          "(error 0x{:x})",
                                                          self->host_, app_error_code),
                                              true)));
  return 0;
}

int H3Connection::on_stream_stop_sending(ngtcp2_conn*, std::int64_t stream_id, std::uint64_t,
                                         void* user_data, void*) {
  auto* self = static_cast<H3Connection*>(user_data);
  if (self->h3_ && nghttp3_conn_shutdown_stream_read(self->h3_, stream_id) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  return 0;
}

int H3Connection::on_extend_max_stream_data(ngtcp2_conn*, std::int64_t stream_id, std::uint64_t,
                                            void* user_data, void*) {
  auto* self = static_cast<H3Connection*>(user_data);
  if (self->h3_ && nghttp3_conn_unblock_stream(self->h3_, stream_id) != 0)
    return NGTCP2_ERR_CALLBACK_FAILURE;
  return 0;
}

// ---- nghttp3 callbacks -------------------------------------------------------------------------

int H3Connection::h3_recv_data(nghttp3_conn*, std::int64_t stream_id, const std::uint8_t* data,
                               std::size_t datalen, void* conn_user_data, void*) {
  auto* self = static_cast<H3Connection*>(conn_user_data);
  H3Stream* stream = self->stream_for(stream_id);
  if (!stream) {
    self->credit(stream_id, datalen);  // nobody wants it: do not let it close the window
    return 0;
  }
  stream->moved_ += datalen;
  // Held, not credited until the sink takes it (the window bounds how much can wait here):
  // while paused, and while a batch of datagrams is read, so that the sink gets the batch's
  // bytes in one piece (one file write) instead of a packet's worth at a time.
  const bool queue = stream->paused_ || !stream->backlog_.empty() || self->reading_batch_;
  if (queue) {
    if (!stream->paused_ && stream->backlog_.empty()) self->to_deliver_.push_back(stream_id);
    stream->backlog_.insert(stream->backlog_.end(), data, data + datalen);
    return 0;
  }
  if (stream->sink_.on_body(std::span<const std::uint8_t>(data, datalen)) == BodyAction::Pause)
    stream->paused_ = true;
  self->credit(stream_id, datalen);
  return 0;
}

int H3Connection::h3_deferred_consume(nghttp3_conn*, std::int64_t stream_id, std::size_t consumed,
                                      void* conn_user_data, void*) {
  static_cast<H3Connection*>(conn_user_data)->credit(stream_id, consumed);
  return 0;
}

int H3Connection::h3_begin_headers(nghttp3_conn*, std::int64_t stream_id, void* conn_user_data, void*) {
  auto* self = static_cast<H3Connection*>(conn_user_data);
  if (H3Stream* s = self->stream_for(stream_id)) s->begin_headers();
  return 0;
}

int H3Connection::h3_recv_header(nghttp3_conn*, std::int64_t stream_id, std::int32_t,
                                 nghttp3_rcbuf* name, nghttp3_rcbuf* value, std::uint8_t,
                                 void* conn_user_data, void*) {
  auto* self = static_cast<H3Connection*>(conn_user_data);
  H3Stream* s = self->stream_for(stream_id);
  if (!s) return 0;
  const nghttp3_vec n = nghttp3_rcbuf_get_buf(name);
  const nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
  auto r = s->add_header(std::string_view(reinterpret_cast<const char*>(n.base), n.len),
                         std::string_view(reinterpret_cast<const char*>(v.base), v.len));
  if (!r) {
    self->finish_stream(stream_id, std::move(r));
    (void)ngtcp2_conn_shutdown_stream(self->conn_, stream_id, NGHTTP3_H3_MESSAGE_ERROR);
  }
  return 0;
}

int H3Connection::h3_end_headers(nghttp3_conn*, std::int64_t stream_id, int, void* conn_user_data, void*) {
  auto* self = static_cast<H3Connection*>(conn_user_data);
  H3Stream* s = self->stream_for(stream_id);
  if (!s) return 0;
  if (auto r = s->end_headers(); !r) {
    self->finish_stream(stream_id, std::move(r));
    (void)ngtcp2_conn_shutdown_stream(self->conn_, stream_id, NGHTTP3_H3_MESSAGE_ERROR);
  }
  return 0;
}

int H3Connection::h3_end_stream(nghttp3_conn*, std::int64_t stream_id, void* conn_user_data, void*) {
  auto* self = static_cast<H3Connection*>(conn_user_data);
  H3Stream* s = self->stream_for(stream_id);
  if (!s) return 0;
  s->ended_ = true;
  if (!s->final_seen_) {
    self->finish_stream(stream_id, std::unexpected(Error(ErrorCategory::Protocol,
                                                         "the HTTP/3 stream ended without a final response")));
    return 0;
  }
  if (s->backlog_.empty()) self->finish_stream(stream_id, {});
  return 0;
}

nghttp3_ssize H3Connection::h3_read_data(nghttp3_conn*, std::int64_t stream_id, nghttp3_vec* vec,
                                         std::size_t veccnt, std::uint32_t* pflags, void* conn_user_data, void*) {
  auto* self = static_cast<H3Connection*>(conn_user_data);
  const auto it = self->bodies_.find(stream_id);
  if (it == self->bodies_.end()) return NGHTTP3_ERR_WOULDBLOCK;
  const RequestBody::Filled filled = it->second->fill(vec, veccnt);
  switch (filled.outcome) {
    case RequestBody::Fill::Data:
      if (filled.eof) *pflags |= NGHTTP3_DATA_FLAG_EOF;
      return static_cast<nghttp3_ssize>(filled.vectors);
    case RequestBody::Fill::Blocked: return NGHTTP3_ERR_WOULDBLOCK;
    case RequestBody::Fill::Failed: break;
  }
  // This request fails, not the connection: outside nghttp3, cancel the stream.
  boost::asio::post(self->io_, [weak = std::weak_ptr<H3Connection>(self->shared_from_this()), stream_id,
                                error = *it->second->error()] {
    auto conn = weak.lock();
    if (!conn || conn->closed_ || !conn->stream_for(stream_id)) return;
    conn->finish_stream(stream_id, std::unexpected(error));
    if (conn->h3_) (void)nghttp3_conn_shutdown_stream_read(conn->h3_, stream_id);
    (void)ngtcp2_conn_shutdown_stream(conn->conn_, stream_id, NGHTTP3_H3_REQUEST_CANCELLED);
    conn->write();
  });
  return NGHTTP3_ERR_WOULDBLOCK;
}

int H3Connection::h3_acked_stream_data(nghttp3_conn*, std::int64_t stream_id, std::uint64_t datalen,
                                       void* conn_user_data, void*) {
  auto* self = static_cast<H3Connection*>(conn_user_data);
  const auto it = self->bodies_.find(stream_id);
  if (it == self->bodies_.end()) return 0;
  if (it->second->acked(datalen)) self->resume_bodies_.push_back(stream_id);
  if (H3Stream* s = self->stream_for(stream_id)) s->moved_ += datalen;
  return 0;
}

int H3Connection::h3_stream_close(nghttp3_conn*, std::int64_t, std::uint64_t, void*, void*) {
  return 0;  // the ngtcp2 stream_close callback decides what a close means for the request
}

int H3Connection::h3_stop_sending(nghttp3_conn*, std::int64_t stream_id, std::uint64_t app_error_code,
                                  void* conn_user_data, void*) {
  auto* self = static_cast<H3Connection*>(conn_user_data);
  if (ngtcp2_conn_shutdown_stream_read(self->conn_, stream_id, app_error_code) != 0)
    return NGHTTP3_ERR_CALLBACK_FAILURE;
  return 0;
}

int H3Connection::h3_shutdown(nghttp3_conn*, std::int64_t, void* conn_user_data) {
  // GOAWAY: requests already here are answered; new ones go to a new connection (pending ones,
  // not yet on a stream, fail retryably and the engine sends them again).
  auto* self = static_cast<H3Connection*>(conn_user_data);
  self->going_away_ = true;
  std::deque<H3Stream*> waiting;
  waiting.swap(self->pending_);
  // Sinks only post work in reaction (no stream is destroyed, nothing re-enters nghttp3).
  for (H3Stream* stream : waiting)
    stream->complete(std::unexpected(Error(
        ErrorCategory::Network,
        fmt::format("HTTP/3 to {}: the server is closing the connection (GOAWAY)", self->host_), true)));
  return 0;
}

int H3Connection::h3_reset_stream(nghttp3_conn*, std::int64_t stream_id, std::uint64_t app_error_code,
                                  void* conn_user_data, void*) {
  auto* self = static_cast<H3Connection*>(conn_user_data);
  if (ngtcp2_conn_shutdown_stream_write(self->conn_, stream_id, app_error_code) != 0)
    return NGHTTP3_ERR_CALLBACK_FAILURE;
  return 0;
}

}  // namespace xfer::protocols::h3
