// RedirectingStream: the HttpStream RedirectingTransport hands out; one caller exchange as a
// chain of inner exchanges (hops). See redirecting_transport.h for what the caller hears.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include <boost/asio/io_context.hpp>

#include "protocols/http/url.h"
#include "protocols/redirect/redirecting_transport.h"
#include "protocols/transport.h"

namespace xfer::protocols {

class RedirectingStream final : public HttpStream {
 public:
  static Result<std::unique_ptr<RedirectingStream>> start(boost::asio::io_context& io,
                                                          std::shared_ptr<Transport> inner,
                                                          const RedirectConfig& config,
                                                          const HttpRequest& request,
                                                          ExchangeSink& sink);
  ~RedirectingStream() override;
  RedirectingStream(const RedirectingStream&) = delete;
  RedirectingStream& operator=(const RedirectingStream&) = delete;

  void pause_receive() override;
  void resume_receive() override;
  void resume_send() override;
  std::string negotiated_protocol() const override;

 private:
  class Hop;

  RedirectingStream(boost::asio::io_context& io, std::shared_ptr<Transport> inner,
                    const RedirectConfig& config, const HttpRequest& request, Url url,
                    ExchangeSink& sink);

  Result<void> start_hop();
  void on_hop_head(Hop& hop, const ResponseHeaders& head);
  // `head` with the URL of the hop that answered it.
  ResponseHeaders located(const ResponseHeaders& head) const;
  BodyAction on_hop_body(Hop& hop, std::span<const std::uint8_t> data);
  void on_hop_complete(Hop& hop, Result<void> outcome);
  void schedule_advance();
  void advance();
  // Calls into sink_ from inside a hop callback, counted so the destructor knows.
  template <typename Call>
  void into_sink(Call&& call);

  boost::asio::io_context& io_;
  std::shared_ptr<Transport> inner_;
  RedirectConfig config_;
  ExchangeSink& sink_;

  const HttpRequest original_;
  const Url original_url_;
  HttpRequest current_;
  Url current_url_;
  std::uint32_t redirects_ = 0;

  std::unique_ptr<Hop> hop_;
  std::optional<HttpRequest> next_;  // decided at the redirect's head
  std::optional<Url> next_url_;
  std::optional<Error> refusal_;
  bool advance_posted_ = false;
  bool receive_paused_ = false;
  int in_sink_ = 0;  // depth of calls into sink_ made from inside a hop's callback

  // Posted steps hold a weak_ptr to this token: expired means the stream is gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace xfer::protocols
