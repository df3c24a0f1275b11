#include "protocols/redirect/redirecting_stream.h"

#include <utility>

#include <boost/asio/post.hpp>

#include "protocols/redirect/redirect_policy.h"

namespace xfer::protocols {

template <typename Call>
void RedirectingStream::into_sink(Call&& call) {
  const std::weak_ptr<int> alive = alive_;
  ++in_sink_;
  call(sink_);
  if (!alive.expired()) --in_sink_;
}

// The sink of one inner exchange. Once retired (owner == nullptr) it goes quiet, so an inner
// stream whose destruction was posted cannot reach a caller that has moved on.
class RedirectingStream::Hop final : public ExchangeSink {
 public:
  explicit Hop(RedirectingStream* owner) : owner(owner) {}

  RedirectingStream* owner;
  std::unique_ptr<HttpStream> stream;
  bool redirect = false;  // its final head is a redirect being followed or refused
  std::size_t discarded = 0;

  void on_interim(const ResponseHeaders& interim) override {
    if (!owner) return;
    const ResponseHeaders located = owner->located(interim);
    owner->into_sink([&](ExchangeSink& sink) { sink.on_interim(located); });
  }
  void on_response_head(const ResponseHeaders& head) override {
    if (owner) owner->on_hop_head(*this, head);
  }
  BodyAction on_body(std::span<const std::uint8_t> data) override {
    return owner ? owner->on_hop_body(*this, data) : BodyAction::Pause;
  }
  BodyRead read_body(std::span<std::uint8_t> buffer) override {
    BodyRead read{0, true};
    if (owner) owner->into_sink([&](ExchangeSink& sink) { read = sink.read_body(buffer); });
    return read;
  }
  void on_complete(Result<void> outcome) override {
    if (owner) owner->on_hop_complete(*this, std::move(outcome));
  }
  // The transport's own resend of this hop (a reused connection found dead) rewinds the body
  // like a redirect does.
  bool can_replay_body() const override { return owner && owner->sink_.can_replay_body(); }
  bool rewind_body() override {
    bool ok = false;
    if (owner) owner->into_sink([&](ExchangeSink& sink) { ok = sink.rewind_body(); });
    return ok;
  }
};

Result<std::unique_ptr<RedirectingStream>> RedirectingStream::start(
    boost::asio::io_context& io, std::shared_ptr<Transport> inner, const RedirectConfig& config,
    const HttpRequest& request, ExchangeSink& sink) {
  Result<Url> url = Url::parse_http(request.url);
  if (!url) return std::unexpected(url.error());
  std::unique_ptr<RedirectingStream> stream(
      new RedirectingStream(io, std::move(inner), config, request, std::move(*url), sink));
  if (Result<void> started = stream->start_hop(); !started) {
    return std::unexpected(started.error());
  }
  return stream;
}

RedirectingStream::RedirectingStream(boost::asio::io_context& io, std::shared_ptr<Transport> inner,
                                     const RedirectConfig& config, const HttpRequest& request,
                                     Url url, ExchangeSink& sink)
    : io_(io),
      inner_(std::move(inner)),
      config_(config),
      sink_(sink),
      original_(request),
      original_url_(url),
      current_(first_hop_request(request, url)),
      current_url_(std::move(url)) {}

RedirectingStream::~RedirectingStream() {
  alive_.reset();
  if (!hop_) return;
  hop_->owner = nullptr;
  if (in_sink_ > 0) {
    // The caller dropped us from inside a callback of the hop's stream: that stream is still
    // on the stack, so it goes once the stack has unwound.
    boost::asio::post(io_, [hop = std::shared_ptr<Hop>(std::move(hop_))] {});
  }
}

Result<void> RedirectingStream::start_hop() {
  hop_ = std::make_unique<Hop>(this);
  Hop& hop = *hop_;
  Result<std::unique_ptr<HttpStream>> stream = inner_->start(current_, hop);
  if (!stream) {
    hop_.reset();
    return std::unexpected(stream.error());
  }
  hop.stream = std::move(*stream);
  if (receive_paused_) hop.stream->pause_receive();
  return {};
}

ResponseHeaders RedirectingStream::located(const ResponseHeaders& head) const {
  ResponseHeaders out = head;
  Url answered = current_url_;
  answered.userinfo.reset();  // a base for Locations and logs: no credentials in it
  out.url = answered.without_fragment();
  return out;
}

void RedirectingStream::on_hop_head(Hop& hop, const ResponseHeaders& head) {
  const bool replayable = current_.body_length && sink_.can_replay_body();
  RedirectDecision decision =
      decide_redirect(RedirectHop{original_, original_url_, current_, current_url_, head,
                                  redirects_, config_.max_redirects, replayable});
  if (!decision.follow && !decision.refuse) {
    const ResponseHeaders answer = located(head);
    into_sink([&](ExchangeSink& sink) { sink.on_response_head(answer); });
    return;
  }
  hop.redirect = true;
  next_ = std::move(decision.follow);
  next_url_ = std::move(decision.follow_url);
  refusal_ = std::move(decision.refuse);
  // The rest of a request body is wasted on a redirect: it goes again, or not at all.
  if (current_.body_length) schedule_advance();
}

BodyAction RedirectingStream::on_hop_body(Hop& hop, std::span<const std::uint8_t> data) {
  if (hop.redirect) {
    hop.discarded += data.size();
    if (hop.discarded > config_.max_redirect_body_bytes) schedule_advance();
    return BodyAction::Continue;
  }
  const std::weak_ptr<int> alive = alive_;
  BodyAction action = BodyAction::Continue;
  into_sink([&](ExchangeSink& sink) { action = sink.on_body(data); });
  if (action == BodyAction::Pause && !alive.expired()) receive_paused_ = true;
  return action;
}

void RedirectingStream::on_hop_complete(Hop& hop, Result<void> outcome) {
  if (hop.redirect) {
    schedule_advance();
    return;
  }
  into_sink([&](ExchangeSink& sink) { sink.on_complete(std::move(outcome)); });
}

void RedirectingStream::schedule_advance() {
  if (advance_posted_) return;
  advance_posted_ = true;
  boost::asio::post(io_, [weak = std::weak_ptr<int>(alive_), this] {
    if (weak.expired()) return;
    advance_posted_ = false;
    advance();
  });
}

void RedirectingStream::advance() {
  // A posted step: no callback of the hop's stream is on the stack, so it may go now.
  if (!hop_) return;
  hop_->owner = nullptr;
  hop_.reset();
  if (refusal_) {
    sink_.on_complete(std::unexpected(*refusal_));
    return;
  }
  current_ = std::move(*next_);
  current_url_ = std::move(*next_url_);
  next_.reset();
  next_url_.reset();
  ++redirects_;
  if (current_.body_length && !sink_.rewind_body()) {
    sink_.on_complete(fail(ErrorCategory::LocalIo,
                           "could not rewind the request body to send it again after "
                           "a redirect"));
    return;
  }
  if (Result<void> started = start_hop(); !started) {
    sink_.on_complete(std::unexpected(started.error()));
  }
}

void RedirectingStream::pause_receive() {
  receive_paused_ = true;
  if (hop_ && hop_->stream) hop_->stream->pause_receive();
}

void RedirectingStream::resume_receive() {
  receive_paused_ = false;
  if (hop_ && hop_->stream) hop_->stream->resume_receive();
}

void RedirectingStream::resume_send() {
  if (hop_ && hop_->stream) hop_->stream->resume_send();
}

std::string RedirectingStream::negotiated_protocol() const {
  return hop_ && hop_->stream ? hop_->stream->negotiated_protocol() : std::string();
}

}  // namespace xfer::protocols
