// H3Connection: one QUIC connection accepted by the HTTP/3 listener — an ngtcp2 server
// connection with its GnuTLS session and, once the 1-RTT keys are in place, an nghttp3 server
// connection — with one H3Stream per request. QuicEndpoint is what it needs from its listener:
// the datagram path, the CID map and the static secret.
//
// Promises: ngtcp2 and nghttp3 are never re-entered from their own callbacks (handler work,
// resets and closes are posted); request body credit is returned only as the handler
// consumes it (H3Stream); packets go out in GSO batches of equal size, one batch per event-loop
// turn, paced by ngtcp2 (update_pkt_tx_time, expiry timer); the handshake is bounded by
// limits.header_timeout and silence by limits.idle_timeout (QUIC's own idle timeout); a
// closing connection keeps its CIDs for 3 PTO and answers late packets with its
// CONNECTION_CLOSE (rate-limited), then disappears. Event-loop thread only.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "testserver/net/connection.h"
#include "testserver/net/connection_context.h"
#include "testserver/net/datagram_path.h"
#include "testserver/net/h3_stream.h"
#include "testserver/net/quic_server_tls.h"

namespace xts::net {

class H3Connection;

// Every CID this server issues has this length, so short-header packets can be demultiplexed.
inline constexpr std::size_t kQuicCidLength = 18;

class QuicEndpoint {
 public:
  virtual ~QuicEndpoint() = default;
  virtual DatagramPath& datagram_path() = 0;
  virtual void associate(const ngtcp2_cid& cid, const std::shared_ptr<H3Connection>& connection) = 0;
  virtual void dissociate(const ngtcp2_cid& cid) = 0;
  // The connection is gone for good: drop its CIDs and its slot.
  virtual void remove(H3Connection& connection) = 0;
  virtual const std::array<std::uint8_t, 32>& secret() const = 0;
};

// What the listener learned from the first Initial.
struct QuicAccept {
  ngtcp2_pkt_hd header{};                  // the client's Initial (CIDs copied, token not used)
  ngtcp2_cid original_dcid{};              // the client's first DCID (from the token after a Retry)
  std::optional<ngtcp2_cid> retry_scid;    // set after a Retry: the DCID of this Initial
  bool address_validated = false;          // a verified token: lifts anti-amplification
};

class H3Connection final : public Connection,
                           public H3Session,
                           public std::enable_shared_from_this<H3Connection> {
 public:
  H3Connection(boost::asio::io_context& io, std::shared_ptr<QuicEndpoint> endpoint,
               std::shared_ptr<const ConnectionContext> ctx, std::shared_ptr<const QuicServerCredentials> tls,
               const SocketAddress& remote);
  ~H3Connection() override;
  H3Connection(const H3Connection&) = delete;
  H3Connection& operator=(const H3Connection&) = delete;

  // Creates the ngtcp2 connection for the first Initial and processes it. False: the
  // datagram is dropped and the connection discarded (never registered).
  bool accept(const QuicAccept& info, std::span<const std::uint8_t> datagram);
  void on_datagram(const Datagram& datagram);

  // Connection: GOAWAY, then CONNECTION_CLOSE(H3_NO_ERROR).
  void stop() override;

  // H3Session.
  nghttp3_conn* http3() override { return h3_; }
  boost::asio::any_io_executor executor() override { return io_.get_executor(); }
  void schedule_write() override;
  void consumed(std::int64_t stream_id, std::size_t bytes) override;
  void reset_stream(std::int64_t stream_id) override;
  void stop_reading(std::int64_t stream_id) override;
  void close_connection() override;
  bool gone() const override { return state_ != State::Open; }
  ResponseBudget& connection_budget() override { return budget_; }
  ResponseBudget* server_budget() override { return ctx_->server_budget.get(); }
  void schedule_room_check() override;

  const std::string& peer() const { return peer_; }
  // Every CID a datagram for this connection may carry now.
  std::vector<ngtcp2_cid> cids() const;

  // ngtcp2 / nghttp3 callback bodies (trampolines in the .cpp).
  int on_recv_stream_data(std::uint32_t flags, std::int64_t stream_id, const std::uint8_t* data, std::size_t len);
  int on_acked_stream_data_offset(std::int64_t stream_id, std::uint64_t datalen);
  int on_stream_close(std::uint32_t flags, std::int64_t stream_id, std::uint64_t app_error_code);
  int on_stream_reset(std::int64_t stream_id);
  int on_extend_max_remote_streams_bidi(std::uint64_t max_streams);
  int on_extend_max_stream_data(std::int64_t stream_id);
  int on_recv_tx_key(ngtcp2_crypto_level level);
  int on_handshake_completed();
  int on_get_new_connection_id(ngtcp2_cid* cid, std::uint8_t* token, std::size_t cidlen);
  int on_remove_connection_id(const ngtcp2_cid* cid);
  int h3_acked_stream_data(std::int64_t stream_id, std::uint64_t datalen, void* stream_user_data);
  int h3_stream_close(std::int64_t stream_id, std::uint64_t app_error_code, void* stream_user_data);
  int h3_recv_data(std::int64_t stream_id, const std::uint8_t* data, std::size_t len, void* stream_user_data);
  int h3_deferred_consume(std::int64_t stream_id, std::size_t consumed);
  int h3_begin_headers(std::int64_t stream_id);
  int h3_recv_header(std::int64_t stream_id, nghttp3_rcbuf* name, nghttp3_rcbuf* value, void* stream_user_data);
  int h3_end_headers(std::int64_t stream_id, int fin, void* stream_user_data);
  int h3_end_stream(std::int64_t stream_id, void* stream_user_data);
  int h3_stop_sending(std::int64_t stream_id, std::uint64_t app_error_code);
  int h3_reset_stream(std::int64_t stream_id, std::uint64_t app_error_code);

  ngtcp2_conn* quic() { return conn_; }

 private:
  enum class State { Open, Closing, Draining, Gone };
  bool setup_http3();
  void write();
  bool flush(const std::uint8_t* data, std::size_t len, std::size_t segment);
  bool same_remote(const ngtcp2_path& path) const;
  void follow_path(const ngtcp2_path& path);
  void arm_timer();
  void on_timer();
  // Once a second: streams whose headers are too slow (limits.header_timeout) or whose
  // response the peer stopped taking (limits.idle_timeout) are reset.
  void on_tick();
  // After an ngtcp2 error: the matching close (or none), then the closing/draining period.
  void handle_error(int liberr);
  void start_closing();
  void start_draining();
  void wait_then_remove();
  void remove_now();
  void dispatch(const std::shared_ptr<H3Stream>& stream);
  void credit(std::int64_t stream_id, std::size_t bytes);

  boost::asio::io_context& io_;
  std::shared_ptr<QuicEndpoint> endpoint_;
  std::shared_ptr<const ConnectionContext> ctx_;
  std::shared_ptr<const QuicServerCredentials> tls_;
  SocketAddress remote_;
  std::string peer_;
  std::uint64_t registry_id_ = 0;
  ngtcp2_crypto_conn_ref conn_ref_{};
  std::unique_ptr<QuicServerSession> session_;
  ngtcp2_conn* conn_ = nullptr;
  nghttp3_conn* h3_ = nullptr;
  ngtcp2_connection_close_error last_error_{};
  bool error_set_ = false;  // a callback chose last_error_
  State state_ = State::Open;
  bool handshake_done_ = false;
  bool in_call_ = false;  // inside ngtcp2/nghttp3: closes wait until it returns
  bool close_requested_ = false;
  bool write_posted_ = false;
  bool room_check_posted_ = false;
  bool blocked_ = false;  // a batch waits for the socket
  std::vector<std::uint8_t> blocked_batch_;
  std::size_t blocked_segment_ = 0;
  std::vector<std::uint8_t> tx_;
  std::vector<std::uint8_t> close_packet_;
  std::uint64_t packets_while_closing_ = 0;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer tick_timer_;
  ResponseBudget budget_;
  // Streams whose bare FIN nghttp3 handed out but ngtcp2 did not send: written directly (see
  // write()), ahead of anything nghttp3 offers.
  std::vector<std::int64_t> owed_fins_;
  std::map<std::int64_t, std::shared_ptr<H3Stream>> streams_;
};

}  // namespace xts::net
