// CurlStream: one libcurl easy handle running one HTTP exchange (an HttpStream).
//
// What the sink hears, and why it is shaped this way:
// - 1xx responses (104 Upload Resumption Supported, ...) go to on_interim as they arrive;
//   libcurl 7.88 passes their status line and fields to the header callback and continues.
// - libcurl follows no redirects: a 3xx is the final response (RedirectingTransport follows
//   them above). on_response_head fires exactly once, for the final response, before its
//   first body byte (or before on_complete when it has no body).
//   If the exchange fails before the final head was complete, on_complete(error) comes alone.
// - on_body receives the bytes libcurl decodes (no content decoding is ever requested).
//   Returning Pause: the bytes were consumed; anything libcurl already read is handed back to
//   curl (CURL_WRITEFUNC_PAUSE) and redelivered after resume_receive().
// - on_complete runs once, posted to the loop (never inside a libcurl callback), so the sink
//   may destroy the stream from there.
// Destroying the stream cancels the exchange; no sink callback follows. A running handle is
// handed to the multi, which makes libcurl end it through its normal failure path.
// Starting, pausing, resuming and destroying are all allowed from inside sink callbacks: what
// libcurl forbids there (adding handles, curl_easy_pause) is posted to the loop.
//
// Threading: the io_context's thread only. pause/resume are applied by a posted step, so they
// are safe from inside sink callbacks.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>

#include <curl/curl.h>

#include "protocols/curl/curl_multi_asio.h"
#include <xfer/transport_settings.h>
#include "protocols/curl/response_head_collector.h"
#include "protocols/transport.h"

namespace xfer::protocols::curl {

class CurlStream final : public HttpStream, private CurlEasyOwner {
 public:
  // Configures an easy handle for `request` and attaches it to `multi`. Fails with
  // InvalidArgument for requests this transport cannot express.
  static Result<std::unique_ptr<CurlStream>> start(std::shared_ptr<CurlMultiAsio> multi,
                                                   const TransportSettings& config,
                                                   const HttpRequest& request,
                                                   ExchangeSink& sink);
  ~CurlStream() override;
  CurlStream(const CurlStream&) = delete;
  CurlStream& operator=(const CurlStream&) = delete;

  void pause_receive() override;
  void resume_receive() override;
  void resume_send() override;
  std::string negotiated_protocol() const override { return protocol_; }

 private:
  CurlStream(std::shared_ptr<CurlMultiAsio> multi, ExchangeSink& sink,
             const TransportSettings& config);

  Result<void> configure(const TransportSettings& config, const HttpRequest& request);

  static std::size_t header_trampoline(char* data, std::size_t size, std::size_t count, void* self);
  static std::size_t write_trampoline(char* data, std::size_t size, std::size_t count, void* self);
  static std::size_t read_trampoline(char* data, std::size_t size, std::size_t count, void* self);
  static int seek_trampoline(void* self, curl_off_t offset, int origin);
  std::size_t on_header(std::string_view line);
  std::size_t on_write(char* data, std::size_t size);
  std::size_t on_read(char* data, std::size_t size);

  void attach();
  void on_transfer_done(CURLcode result) override;
  void deliver_pending_head();
  void schedule_pause_sync();
  void sync_pause();

  std::shared_ptr<CurlMultiAsio> multi_;
  ExchangeSink& sink_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  bool attached_ = false;

  ResponseHeadCollector collector_;
  std::optional<ResponseHeaders> pending_head_;
  bool head_delivered_ = false;
  std::string protocol_;
  bool h2c_unshared_ = false;  // h2c on its own connection (libcurl h2c reuse bug)

  std::uint64_t body_length_ = 0;  // request body bytes promised
  std::uint64_t body_read_ = 0;    // request body bytes read_body produced so far

  bool receive_paused_ = false;
  bool send_paused_ = false;
  bool pause_sync_posted_ = false;
  std::optional<Error> abort_reason_;  // why a callback made curl fail, if it did
  std::array<char, CURL_ERROR_SIZE> error_buffer_{};

  // Posted steps hold a weak_ptr to this token: expired means the stream is gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace xfer::protocols::curl
