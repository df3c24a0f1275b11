// H3Stream: one HTTP/3 exchange (a request stream on an H3Connection), as the engine sees it.
// It holds the request, collects the response's header blocks (1xx ones go to on_interim, the
// final one to on_response_head) and keeps body bytes the sink is not taking yet (paused), at
// most one stream window of them. Destroying it cancels the request on the wire.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocols/transport.h"

namespace xfer::protocols::h3 {

class H3Connection;

class H3Stream final : public HttpStream {
 public:
  H3Stream(std::shared_ptr<H3Connection> connection, HttpRequest request, ExchangeSink& sink,
           std::size_t max_header_bytes);
  ~H3Stream() override;

  void pause_receive() override { paused_ = true; }
  void resume_receive() override;
  void resume_send() override;
  std::string negotiated_protocol() const override { return "h3"; }
  bool connection_ready() const override;

 private:
  friend class H3Connection;

  // The connection's view.
  void begin_headers();
  Result<void> add_header(std::string_view name, std::string_view value);
  // The header block ended; false when the response is malformed (the stream is then failed).
  Result<void> end_headers();
  void complete(Result<void> outcome);

  std::shared_ptr<H3Connection> connection_;
  HttpRequest request_;
  ExchangeSink& sink_;
  std::size_t max_header_bytes_;
  std::int64_t id_ = -1;
  ResponseHeaders block_;        // the header block being received
  std::size_t header_bytes_ = 0;
  bool final_seen_ = false;      // the final response's head was delivered
  bool paused_ = false;
  std::vector<std::uint8_t> backlog_;  // received, not yet taken by the sink
  std::size_t backlog_from_ = 0;
  bool ended_ = false;           // the response ended (delivered once the backlog is empty)
  bool completed_ = false;
  // Low-speed watchdog: body bytes received plus request bytes the server acknowledged (an upload
  // moves the other way), and where the current window started.
  std::uint64_t moved_ = 0;
  std::uint64_t window_bytes_ = 0;
  std::chrono::steady_clock::time_point window_start_ = std::chrono::steady_clock::now();
};

}  // namespace xfer::protocols::h3
