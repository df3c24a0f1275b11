// H2Connection: one HTTP/2 connection (TLS with ALPN h2, or h2c with prior knowledge) driven by
// libnghttp2's server session over Asio, with one H2Exchange per request stream.
//
// Promises: at most one socket read and one socket write in flight; nghttp2 callbacks never
// call the App — request dispatch and every Exchange completion is posted; received DATA is
// acknowledged (WINDOW_UPDATE via nghttp2_session_consume) only when the handler pulls it, so
// back-pressure reaches the sender; responses stream through a deferred data provider and are
// copied once, straight into the outgoing batch (NGHTTP2_DATA_FLAG_NO_COPY). Over TLS, once
// Asio's handshake is done the connection drives the SSL object itself (see tls_takeover in
// the .cpp): records go from OpenSSL straight to the socket, without Asio's 17 KiB BIO pair,
// its two extra copies and one event-loop turn per record. Header blocks
// over limits.max_header_bytes / max_header_count get 431; SETTINGS_MAX_CONCURRENT_STREAMS and
// MAX_HEADER_LIST_SIZE are advertised; nghttp2's own flood and rapid-reset limits stay on. A
// response stuck on a zero send window for limits.idle_timeout is reset (RST_STREAM CANCEL), and
// an aborted stream's RST_STREAM goes out only after the write carrying its last DATA.
// Streams read no response bytes ahead of the peer's windows; together they hold at most
// kConnectionResponseBudget.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nghttp2/nghttp2.h>
#include <openssl/bio.h>

#include <boost/asio/steady_timer.hpp>

#include "testserver/exchange.h"
#include "testserver/net/connection.h"
#include "testserver/net/connection_context.h"
#include "testserver/net/h2_stream.h"
#include "testserver/net/streams.h"

namespace xts::net {

template <class Stream>
class H2Connection final : public Connection,
                           public H2Session,
                           public std::enable_shared_from_this<H2Connection<Stream>> {
 public:
  H2Connection(Stream stream, std::string_view initial, std::shared_ptr<const ConnectionContext> ctx,
               std::string scheme);
  ~H2Connection() override;

  void start();
  void stop() override;

  // H2Session (used by the streams).
  nghttp2_session* session() override { return session_; }
  boost::asio::any_io_executor executor() override { return stream_.get_executor(); }
  void schedule_write() override;
  void terminate(std::uint32_t error_code) override;
  bool gone() const override { return closed_; }
  void reset_after_flush(std::int32_t stream_id, std::uint32_t error_code) override;
  ResponseBudget& connection_budget() override { return budget_; }
  ResponseBudget* server_budget() override { return ctx_->server_budget.get(); }
  void schedule_room_check() override;
  const std::string& alt_svc() const override { return alt_svc_; }

  // nghttp2 callbacks (trampolines in the .cpp call these).
  int on_begin_headers(const nghttp2_frame* frame);
  int on_header(const nghttp2_frame* frame, std::string_view name, std::string_view value);
  int on_frame_recv(const nghttp2_frame* frame);
  int on_frame_send(const nghttp2_frame* frame);
  int on_data_chunk(std::int32_t stream_id, const std::uint8_t* data, std::size_t len);
  int on_stream_close(std::int32_t stream_id, std::uint32_t error_code);
  int send_data(nghttp2_frame* frame, const std::uint8_t* framehd, std::size_t length,
                H2Stream& stream);

 private:
  bool init_session();
  bool tls_takeover();
  void do_read();
  void do_read_tls();
  bool feed_tls(std::size_t n);
  void write_tls(std::size_t offset);
  void after_write(boost::system::error_code ec);
  bool feed(const std::uint8_t* data, std::size_t len);
  void do_write();
  void on_tick();
  void submit_pending_resets();
  void close_gracefully();
  void drain_input();
  void close();
  void dispatch(const std::shared_ptr<H2Stream>& stream);
  H2Stream* stream_of(std::int32_t id);

  Stream stream_;
  std::shared_ptr<const ConnectionContext> ctx_;
  std::string scheme_;
  std::string alt_svc_;  // ctx_->alt_svc over TLS, else empty
  std::string peer_;
  std::uint64_t registry_id_ = 0;
  nghttp2_session* session_ = nullptr;
  std::vector<std::uint8_t> initial_;
  std::vector<std::uint8_t> read_buf_;
  std::vector<std::uint8_t> out_buf_;
  // Response bytes this connection's streams hold (their shares; see H2Stream::recheck_room).
  ResponseBudget budget_;
  bool room_check_posted_ = false;
  std::map<std::int32_t, std::shared_ptr<H2Stream>> streams_;
  // RST_STREAMs waiting for the write that carries the stream's last DATA (reset_after_flush).
  std::vector<std::pair<std::int32_t, std::uint32_t>> pending_resets_;
  boost::asio::steady_timer tick_timer_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point idle_since_;
  std::chrono::steady_clock::time_point write_started_;
  bool got_settings_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool write_posted_ = false;
  bool in_session_call_ = false;
  bool closed_ = false;
  bool lingering_ = false;  // close_gracefully: FIN sent, draining the peer's last bytes
  // Direct TLS (tls_takeover succeeded): ciphertext is read into raw_buf_ and handed to
  // OpenSSL through a memory BIO; OpenSSL writes records to the socket itself.
  bool tls_direct_ = false;
  BIO* tls_rbio_ = nullptr;  // owned by the SSL object
  std::vector<std::uint8_t> raw_buf_;
};

extern template class H2Connection<PlainStream>;
extern template class H2Connection<TlsStream>;

}  // namespace xts::net
