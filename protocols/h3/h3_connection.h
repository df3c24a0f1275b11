// H3Connection: one QUIC connection (ngtcp2, TLS by GnuTLS) carrying HTTP/3 (nghttp3) to one
// origin, on the engine's Asio loop, with many requests as streams on it.
//
// Promises:
// - The server's certificate is verified as the TCP transports verify it (QuicTlsSession).
// - Flow control bounds memory: received body bytes are credited back to the server (stream and
//   connection windows) only once the sink took them; a paused stream keeps at most its window
//   of unconsumed bytes, and the server stops sending when that is used up.
// - Every stream ends with exactly one on_complete: success after the response's end, or the
//   stream's or the connection's error (retryable for network trouble, TLS errors not).
// - ngtcp2 and nghttp3 are never re-entered from their own callbacks: sink calls that start
//   work (a new request, a resume) are deferred to the loop.
//
// Threading: the io_context's thread only. The connection keeps itself alive while socket or
// timer operations are pending; close() ends them.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <xfer/transport_settings.h>

#include "protocols/h3/quic_tls.h"
#include "protocols/h3/request_body.h"
#include "protocols/h3/udp_batch.h"
#include "protocols/transport.h"

namespace xfer::protocols::h3 {

class H3Stream;

class H3Connection : public std::enable_shared_from_this<H3Connection> {
 public:
  // Resolves `host` (blocking: names in this engine are few and usually cached by the system),
  // opens a UDP socket towards it and sends the first Initial. Errors are Network errors.
  // `handshake_timeout`: how long the QUIC handshake may take (the request's connect timeout).
  static Result<std::shared_ptr<H3Connection>> open(boost::asio::io_context& io,
                                                    const TransportSettings& settings,
                                                    std::shared_ptr<const QuicTlsContext> tls,
                                                    const std::string& host, std::uint16_t port,
                                                    std::chrono::milliseconds handshake_timeout);
  ~H3Connection();
  H3Connection(const H3Connection&) = delete;
  H3Connection& operator=(const H3Connection&) = delete;

  // A new request: it opens its stream when the handshake and the server's stream limit allow.
  void submit(H3Stream& stream);
  // The stream is going away (destroyed, or its exchange abandoned): no more callbacks reach it;
  // an unfinished request is cancelled on the wire (H3_REQUEST_CANCELLED).
  void detach(H3Stream& stream);
  // The stream's sink takes bytes again: deliver what waited, credit it, send the new windows.
  void resume_receive(H3Stream& stream);
  // The stream's sink has request-body bytes again (read_body had said pause).
  void resume_send(H3Stream& stream);
  // Sends CONNECTION_CLOSE (no error) unless closing already, fails what is still open, stops
  // every socket and timer operation.
  void close();

  // The transport is gone: close once the last stream has gone too (now, if none is open).
  void orphan();

  bool handshake_done() const { return handshake_done_; }

  // Takes new requests (not failed, not closing, not idle-closed).
  bool usable() const { return !closed_ && !going_away_; }
  std::size_t open_streams() const { return streams_.size() + pending_.size(); }

 private:
  H3Connection(boost::asio::io_context& io, const TransportSettings& settings,
               std::shared_ptr<const QuicTlsContext> tls, std::string host);

  Result<void> start(const boost::asio::ip::udp::endpoint& remote, std::chrono::milliseconds handshake_timeout);
  Result<void> setup_http3();
  void open_pending();
  Result<void> start_request(H3Stream& stream);

  // I/O.
  void wait_readable();
  void on_readable();
  void write();  // what ngtcp2 and nghttp3 have to send, then the timer
  // Sends send_buffer_[0, len) as packets of `segment` bytes; false if the kernel pushed back
  // (what is left is kept in blocked_ and the socket watched).
  bool send_run(std::size_t len, std::size_t segment);
  bool send_blocked();
  // One datagram from the server into ngtcp2; false once the connection failed.
  bool read_datagram(std::span<const std::uint8_t> datagram, const sockaddr_storage& from, socklen_t from_len);
  void schedule_write();
  void wait_writable();
  void arm_timer();
  void on_timer();
  // Ends the connection: every stream gets `error`; a CONNECTION_CLOSE goes out unless the peer
  // already closed or `silent`.
  void fail_connection(const Error& error, bool silent);
  Error error_for(int liberr, const char* during) const;

  // Delivers what a stream has waiting while its sink takes it; credits what it took; ends the
  // stream if its response ended and nothing waits.
  void drain(H3Stream& stream);
  // The delivering part of drain(): false if the sink's reaction ended the stream.
  bool deliver_backlog(H3Stream& stream);
  // After a batch of datagrams: every stream that got body bytes in it hears of them at once.
  void deliver_batch();
  // A stream leaves with bytes the sink never took: the connection's window gets them back
  // (ngtcp2 does not), or enough abandoned paused streams would stall every other one.
  void release_backlog(H3Stream& stream);
  // Once a second while streams run: a stream below its request's low-speed limit fails
  // (retryable), as over TCP; the connection may be alive for other streams meanwhile.
  void arm_watchdog();
  void on_watchdog();
  void credit(std::int64_t stream_id, std::size_t bytes);
  // The request stream is done with its sink (response ended, failed or abandoned): no more
  // body reads; a body not sent to its end is cut off on the wire.
  void end_request_body(std::int64_t stream_id, bool cut_off_on_wire);
  H3Stream* stream_for(std::int64_t id);
  void finish_stream(std::int64_t id, Result<void> outcome);

  static ngtcp2_tstamp now();

  // ngtcp2 callbacks (user_data = this).
  static ngtcp2_conn* get_conn(ngtcp2_crypto_conn_ref* ref);
  static int on_recv_stream_data(ngtcp2_conn*, std::uint32_t flags, std::int64_t stream_id,
                                 std::uint64_t offset, const std::uint8_t* data, std::size_t datalen,
                                 void* user_data, void* stream_user_data);
  static int on_acked_stream_data_offset(ngtcp2_conn*, std::int64_t stream_id, std::uint64_t offset,
                                         std::uint64_t datalen, void* user_data, void* stream_user_data);
  static int on_stream_close(ngtcp2_conn*, std::uint32_t flags, std::int64_t stream_id,
                             std::uint64_t app_error_code, void* user_data, void* stream_user_data);
  static int on_stream_reset(ngtcp2_conn*, std::int64_t stream_id, std::uint64_t final_size,
                             std::uint64_t app_error_code, void* user_data, void* stream_user_data);
  static int on_stream_stop_sending(ngtcp2_conn*, std::int64_t stream_id, std::uint64_t app_error_code,
                                    void* user_data, void* stream_user_data);
  static int on_extend_max_local_streams_bidi(ngtcp2_conn*, std::uint64_t max_streams, void* user_data);
  static int on_extend_max_stream_data(ngtcp2_conn*, std::int64_t stream_id, std::uint64_t max_data,
                                       void* user_data, void* stream_user_data);
  static int on_handshake_completed(ngtcp2_conn*, void* user_data);
  static int on_recv_rx_key(ngtcp2_conn*, ngtcp2_crypto_level level, void* user_data);
  static void on_rand(std::uint8_t* dest, std::size_t destlen, const ngtcp2_rand_ctx* ctx);
  static int on_get_new_connection_id(ngtcp2_conn*, ngtcp2_cid* cid, std::uint8_t* token,
                                      std::size_t cidlen, void* user_data);

  // nghttp3 callbacks (conn_user_data = this).
  static int h3_recv_data(nghttp3_conn*, std::int64_t stream_id, const std::uint8_t* data,
                          std::size_t datalen, void* conn_user_data, void* stream_user_data);
  static int h3_deferred_consume(nghttp3_conn*, std::int64_t stream_id, std::size_t consumed,
                                 void* conn_user_data, void* stream_user_data);
  static int h3_begin_headers(nghttp3_conn*, std::int64_t stream_id, void* conn_user_data,
                              void* stream_user_data);
  static int h3_recv_header(nghttp3_conn*, std::int64_t stream_id, std::int32_t token,
                            nghttp3_rcbuf* name, nghttp3_rcbuf* value, std::uint8_t flags,
                            void* conn_user_data, void* stream_user_data);
  static int h3_end_headers(nghttp3_conn*, std::int64_t stream_id, int fin, void* conn_user_data,
                            void* stream_user_data);
  static int h3_end_stream(nghttp3_conn*, std::int64_t stream_id, void* conn_user_data,
                           void* stream_user_data);
  static int h3_stream_close(nghttp3_conn*, std::int64_t stream_id, std::uint64_t app_error_code,
                             void* conn_user_data, void* stream_user_data);
  static int h3_stop_sending(nghttp3_conn*, std::int64_t stream_id, std::uint64_t app_error_code,
                             void* conn_user_data, void* stream_user_data);
  static int h3_shutdown(nghttp3_conn*, std::int64_t id, void* conn_user_data);
  static nghttp3_ssize h3_read_data(nghttp3_conn*, std::int64_t stream_id, nghttp3_vec* vec,
                                    std::size_t veccnt, std::uint32_t* pflags, void* conn_user_data,
                                    void* stream_user_data);
  static int h3_acked_stream_data(nghttp3_conn*, std::int64_t stream_id, std::uint64_t datalen,
                                  void* conn_user_data, void* stream_user_data);
  static int h3_reset_stream(nghttp3_conn*, std::int64_t stream_id, std::uint64_t app_error_code,
                             void* conn_user_data, void* stream_user_data);

  boost::asio::io_context& io_;
  TransportSettings settings_;
  std::shared_ptr<const QuicTlsContext> tls_;
  std::string host_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer timer_;
  ngtcp2_crypto_conn_ref conn_ref_{};
  std::unique_ptr<QuicTlsSession> session_;
  ngtcp2_conn* conn_ = nullptr;
  nghttp3_conn* h3_ = nullptr;
  sockaddr_storage local_addr_{};
  socklen_t local_len_ = 0;
  sockaddr_storage remote_addr_{};
  socklen_t remote_len_ = 0;
  ngtcp2_connection_close_error last_error_{};
  std::chrono::milliseconds handshake_timeout_{10'000};
  std::optional<Error> callback_error_;  // why a callback failed, for the streams

  std::deque<H3Stream*> pending_;                      // submitted, no stream id yet
  std::unordered_map<std::int64_t, H3Stream*> streams_;  // open request streams
  // Request bodies by stream id, until the QUIC stream closes (nghttp3 points into them).
  std::unordered_map<std::int64_t, std::unique_ptr<RequestBody>> bodies_;
  std::vector<std::int64_t> resume_bodies_;  // acknowledgements made room: resumed by write()
  bool reading_batch_ = false;               // on_readable is feeding datagrams to ngtcp2
  std::vector<std::int64_t> to_deliver_;     // streams with body bytes from this batch
  std::unique_ptr<UdpBatch> udp_;
  // Packets are written here back to back and leave as runs of equal size (GSO).
  std::vector<std::uint8_t> send_buffer_;
  struct BlockedRun {
    std::vector<std::uint8_t> packets;
    std::size_t segment = 0;
  };
  std::deque<BlockedRun> blocked_;  // EAGAIN: sent first, in order, once the socket is writable
  bool write_scheduled_ = false;
  bool waiting_writable_ = false;
  bool handshake_done_ = false;
  bool closed_ = false;
  bool going_away_ = false;  // the server sent GOAWAY: no new requests here
  bool orphaned_ = false;
  boost::asio::steady_timer watchdog_;
  std::chrono::steady_clock::time_point last_heard_{};  // the last packet ngtcp2 accepted
  bool watchdog_armed_ = false;
  void close_if_orphaned();
};

}  // namespace xfer::protocols::h3
