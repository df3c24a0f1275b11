// FallbackStream: an exchange that prefers HTTP/3 and falls back to TCP. It starts on the QUIC
// transport; if that fails before the response began (no QUIC handshake, a refused or
// blackholed UDP port, a TLS or protocol failure), or the handshake has not finished after the
// fallback delay, the same request goes to the TCP transport and the origin is remembered as
// broken for HTTP/3 for a while (later exchanges go straight to TCP). The caller's sink hears
// only the exchange that answered: once a response head arrived over HTTP/3 nothing falls back.
// A request body's first read commits the exchange to HTTP/3 (the server may have got some of it:
// sending it again elsewhere could create a second upload), so nothing of a body is ever sent
// twice; a failure after that is the caller's to retry, as over TCP.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "protocols/transport.h"

namespace xfer::protocols {

// Origins whose HTTP/3 did not work, until when (shared by the router and its streams).
struct BrokenQuicOrigins {
  std::map<std::string, std::chrono::steady_clock::time_point> until;
  // Hears every mark (the engine keeps it in the journal for the next run).
  std::function<void(const std::string& origin, std::chrono::milliseconds how_long)> on_mark;
  bool broken(const std::string& origin);
  // A failure seen now: remembered, and on_mark told.
  void mark(const std::string& origin, std::chrono::milliseconds how_long);
  // What an earlier run found (from the journal): remembered, nobody told.
  void remember(const std::string& origin, std::chrono::milliseconds how_long);
};

class FallbackStream final : public HttpStream, private ExchangeSink {
 public:
  static Result<std::unique_ptr<FallbackStream>> start(boost::asio::io_context& io,
                                                       std::shared_ptr<Transport> quic,
                                                       std::shared_ptr<Transport> tcp,
                                                       std::shared_ptr<BrokenQuicOrigins> broken,
                                                       std::string origin, const HttpRequest& request,
                                                       ExchangeSink& sink,
                                                       std::chrono::milliseconds fallback_after);
  ~FallbackStream() override;

  void pause_receive() override;
  void resume_receive() override;
  void resume_send() override;
  std::string negotiated_protocol() const override;
  bool connection_ready() const override;

 private:
  FallbackStream(boost::asio::io_context& io, std::shared_ptr<Transport> tcp,
                 std::shared_ptr<BrokenQuicOrigins> broken, std::string origin, const HttpRequest& request,
                 ExchangeSink& sink);

  // ExchangeSink, for the inner exchange.
  void on_interim(const ResponseHeaders& interim) override;
  void on_response_head(const ResponseHeaders& head) override;
  BodyAction on_body(std::span<const std::uint8_t> data) override;
  BodyRead read_body(std::span<std::uint8_t> buffer) override;
  void on_complete(Result<void> outcome) override;
  bool can_replay_body() const override { return sink_.can_replay_body(); }
  bool rewind_body() override { return sink_.rewind_body(); }

  // Moves the request to TCP and marks the origin broken for HTTP/3; fall_back tells the sink
  // when TCP cannot even start.
  Result<void> switch_to_tcp();
  void fall_back();

  boost::asio::io_context& io_;
  std::shared_ptr<Transport> tcp_;
  std::shared_ptr<BrokenQuicOrigins> broken_;
  std::string origin_;
  HttpRequest request_;
  ExchangeSink& sink_;
  std::unique_ptr<HttpStream> inner_;
  boost::asio::steady_timer timer_;
  bool on_quic_ = true;
  bool committed_ = false;  // the sink heard something: no fallback any more
  bool receive_paused_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace xfer::protocols
