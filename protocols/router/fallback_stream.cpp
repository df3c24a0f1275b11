#include "protocols/router/fallback_stream.h"

#include <boost/asio/post.hpp>

namespace xfer::protocols {
namespace {
// How long an origin whose HTTP/3 failed goes straight to TCP.
constexpr std::chrono::milliseconds kBrokenFor = std::chrono::minutes(10);
}  // namespace

bool BrokenQuicOrigins::broken(const std::string& origin) {
  const auto it = until.find(origin);
  if (it == until.end()) return false;
  if (std::chrono::steady_clock::now() < it->second) return true;
  until.erase(it);
  return false;
}

void BrokenQuicOrigins::mark(const std::string& origin, std::chrono::milliseconds how_long) {
  remember(origin, how_long);
  if (on_mark) on_mark(origin, how_long);
}

void BrokenQuicOrigins::remember(const std::string& origin, std::chrono::milliseconds how_long) {
  until[origin] = std::chrono::steady_clock::now() + how_long;
}

FallbackStream::FallbackStream(boost::asio::io_context& io, std::shared_ptr<Transport> tcp,
                               std::shared_ptr<BrokenQuicOrigins> broken, std::string origin,
                               const HttpRequest& request, ExchangeSink& sink)
    : io_(io),
      tcp_(std::move(tcp)),
      broken_(std::move(broken)),
      origin_(std::move(origin)),
      request_(request),
      sink_(sink),
      timer_(io) {}

FallbackStream::~FallbackStream() {
  *alive_ = false;
  timer_.cancel();
}

Result<std::unique_ptr<FallbackStream>> FallbackStream::start(
    boost::asio::io_context& io, std::shared_ptr<Transport> quic, std::shared_ptr<Transport> tcp,
    std::shared_ptr<BrokenQuicOrigins> broken, std::string origin, const HttpRequest& request,
    ExchangeSink& sink, std::chrono::milliseconds fallback_after) {
  std::unique_ptr<FallbackStream> self(
      new FallbackStream(io, std::move(tcp), std::move(broken), std::move(origin), request, sink));
  HttpRequest over_quic = request;
  over_quic.version = HttpVersion::Http3;
  auto inner = quic->start(over_quic, *self);
  if (!inner) {
    // Not even started (no address, no socket): TCP at once.
    if (auto r = self->switch_to_tcp(); !r) return std::unexpected(r.error());
    return self;
  }
  self->inner_ = std::move(*inner);
  self->timer_.expires_after(fallback_after);
  self->timer_.async_wait([raw = self.get(), alive = self->alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    if (raw->on_quic_ && !raw->committed_ && !(raw->inner_ && raw->inner_->connection_ready()))
      raw->fall_back();  // no QUIC handshake in time
  });
  return self;
}

Result<void> FallbackStream::switch_to_tcp() {
  broken_->mark(origin_, kBrokenFor);
  on_quic_ = false;
  timer_.cancel();
  inner_.reset();  // cancels the QUIC exchange; never from inside its own callback
  request_.version = HttpVersion::Any;
  auto tcp = tcp_->start(request_, *this);
  if (!tcp) return std::unexpected(tcp.error());
  inner_ = std::move(*tcp);
  if (receive_paused_) inner_->pause_receive();
  return {};
}

void FallbackStream::fall_back() {
  if (auto r = switch_to_tcp(); !r) sink_.on_complete(std::unexpected(r.error()));
}

void FallbackStream::pause_receive() {
  receive_paused_ = true;
  if (inner_) inner_->pause_receive();
}

void FallbackStream::resume_receive() {
  receive_paused_ = false;
  if (inner_) inner_->resume_receive();
}

void FallbackStream::resume_send() {
  if (inner_) inner_->resume_send();
}

std::string FallbackStream::negotiated_protocol() const {
  return inner_ ? inner_->negotiated_protocol() : std::string();
}

bool FallbackStream::connection_ready() const { return inner_ && inner_->connection_ready(); }

void FallbackStream::on_interim(const ResponseHeaders& interim) {
  committed_ = true;
  timer_.cancel();
  sink_.on_interim(interim);
}

void FallbackStream::on_response_head(const ResponseHeaders& head) {
  committed_ = true;
  timer_.cancel();
  sink_.on_response_head(head);
}

BodyAction FallbackStream::on_body(std::span<const std::uint8_t> data) { return sink_.on_body(data); }

BodyRead FallbackStream::read_body(std::span<std::uint8_t> buffer) {
  // Bytes handed to QUIC would have to be sent again over TCP: commit to what takes them.
  committed_ = true;
  return sink_.read_body(buffer);
}

void FallbackStream::on_complete(Result<void> outcome) {
  if (on_quic_ && !committed_ && !outcome) {
    // Inside the QUIC stream's callback: switch on the next loop turn.
    boost::asio::post(io_, [raw = this, alive = alive_] {
      if (*alive && raw->on_quic_) raw->fall_back();
    });
    return;
  }
  timer_.cancel();
  sink_.on_complete(std::move(outcome));
}

}  // namespace xfer::protocols
