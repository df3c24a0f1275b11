#include "testserver/app/fault_exchange.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <limits>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

namespace xts {

namespace {
constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
}

FaultExchange::FaultExchange(std::shared_ptr<Exchange> inner, FaultPlan plan, FaultEngine& engine)
    : inner_(std::move(inner)),
      plan_(std::move(plan)),
      engine_(engine),
      start_(std::chrono::steady_clock::now()),
      timer_(inner_->executor()) {
  const auto& m = inner_->request().method;
  count_request_ = m == "POST" || m == "PUT" || m == "PATCH";
}

FaultExchange::Due FaultExchange::due() const {
  if (plan_.crash_after && *plan_.crash_after == count_) return Due::kCrash;
  if (plan_.reset_after && *plan_.reset_after == count_) return Due::kReset;
  if (plan_.close_after && *plan_.close_after == count_) return Due::kClose;
  if (plan_.stall_bytes && !stalled_ && *plan_.stall_bytes == count_) return Due::kStall;
  return Due::kNone;
}

std::uint64_t FaultExchange::until_next() const {
  std::uint64_t next = kNever;
  for (const auto& t : {plan_.crash_after, plan_.reset_after, plan_.close_after}) {
    if (t && *t > count_) next = std::min(next, *t - count_);
  }
  if (plan_.stall_bytes && !stalled_ && *plan_.stall_bytes > count_) next = std::min(next, *plan_.stall_bytes - count_);
  if (plan_.throttle) {
    // Small slices keep the pace smooth: a tenth of a second's worth, at least 1 byte.
    next = std::min<std::uint64_t>(next, std::clamp<std::uint64_t>(*plan_.throttle / 10, 1, 64 * 1024));
  }
  return next;
}

boost::system::error_code FaultExchange::fire(Due d, std::function<void()> resume) {
  const auto& req = inner_->request();
  switch (d) {
    case Due::kCrash:
      engine_.record("crash-after", req, fmt::format("\"bytes\":{}", count_));
      std::fflush(nullptr);
      ::kill(::getpid(), SIGKILL);
      ::_exit(137);
    case Due::kReset:
      engine_.record("reset-after", req, fmt::format("\"bytes\":{}", count_));
      aborted_ = true;
      inner_->abort_reset();
      return boost::asio::error::connection_reset;
    case Due::kClose:
      engine_.record("close-after", req, fmt::format("\"bytes\":{}", count_));
      aborted_ = true;
      inner_->abort_close();
      return boost::asio::error::connection_aborted;
    case Due::kStall:
      engine_.record("stall", req, fmt::format("\"bytes\":{},\"ms\":{}", count_, plan_.stall_ms));
      stalled_ = true;
      timer_.expires_after(std::chrono::milliseconds(plan_.stall_ms));
      timer_.async_wait([self = shared_from_this(), resume = std::move(resume)](boost::system::error_code) { resume(); });
      return {};
    case Due::kNone:
      break;
  }
  return {};
}

std::chrono::steady_clock::duration FaultExchange::throttle_wait() const {
  if (!plan_.throttle) return {};
  const auto due_at = start_ + std::chrono::microseconds(count_ * 1000000ull / *plan_.throttle);
  const auto now = std::chrono::steady_clock::now();
  return due_at > now ? due_at - now : std::chrono::steady_clock::duration{};
}

void FaultExchange::read_body(BodyHandler handler) {
  auto self = shared_from_this();
  if (aborted_) {
    boost::asio::post(executor(), [handler] { handler({}, false, boost::asio::error::operation_aborted); });
    return;
  }
  if (!count_request_) {
    inner_->read_body(std::move(handler));
    return;
  }
  if (pending_.empty() && !pending_eof_) {
    if (const auto d = due(); d != Due::kNone) {
      const auto ec = fire(d, [self, handler] { self->read_body(handler); });
      if (ec) boost::asio::post(executor(), [handler, ec] { handler({}, false, ec); });
      return;
    }
  }
  if (const auto wait = throttle_wait(); wait.count() > 0) {
    if (!logged_throttle_) {
      logged_throttle_ = true;
      engine_.record("throttle", request(), fmt::format("\"bytes_per_s\":{}", *plan_.throttle));
    }
    timer_.expires_after(wait);
    timer_.async_wait([self, handler](boost::system::error_code) { self->read_now(handler); });
    return;
  }
  read_now(std::move(handler));
}

void FaultExchange::read_now(BodyHandler handler) {
  auto self = shared_from_this();
  if (!pending_.empty()) {
    std::vector<std::uint8_t> chunk;
    chunk.swap(pending_);
    // deliver() may put a tail back into pending_; post so handlers never nest.
    boost::asio::post(executor(), [self, chunk = std::move(chunk), handler]() {
      self->deliver(chunk, handler);
    });
    return;
  }
  if (pending_eof_) {
    boost::asio::post(executor(), [handler] { handler({}, true, {}); });
    return;
  }
  inner_->read_body([self, handler](std::span<const std::uint8_t> data, bool eof, boost::system::error_code ec) {
    if (ec || (eof && data.empty())) {
      handler(data, eof, ec);
      return;
    }
    if (eof) self->pending_eof_ = true;
    self->deliver(data, handler);
  });
}

void FaultExchange::deliver(std::span<const std::uint8_t> data, BodyHandler handler) {
  if (const auto d = due(); d != Due::kNone) {
    // A threshold sits at the very start of this chunk: hold the bytes back and fire.
    pending_.insert(pending_.begin(), data.begin(), data.end());
    auto self = shared_from_this();
    const auto ec = fire(d, [self, handler] { self->read_body(handler); });
    if (ec) handler({}, false, ec);
    return;
  }
  const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), until_next()));
  if (take < data.size()) pending_.insert(pending_.begin(), data.begin() + take, data.end());
  count_ += take;
  handler(data.first(take), false, {});
}

void FaultExchange::send_interim(int status, const Headers& headers) {
  if (status == 104 && plan_.no_104) {
    if (!logged_no104_) {
      logged_no104_ = true;
      engine_.record("no-104", request());
    }
    return;
  }
  inner_->send_interim(status, headers);
}

void FaultExchange::await_room(std::size_t max, RoomHandler ready) {
  if (aborted_) {
    boost::asio::post(executor(), [ready] { ready(0, boost::asio::error::operation_aborted); });
    return;
  }
  inner_->await_room(max, std::move(ready));
}

void FaultExchange::write_body(Bytes data, WriteHandler done) {
  auto self = shared_from_this();
  if (aborted_) {
    boost::asio::post(executor(), [done] { done(boost::asio::error::operation_aborted); });
    return;
  }
  if (count_request_ || data.empty()) {
    inner_->write_body(std::move(data), std::move(done));
    return;
  }
  if (const auto d = due(); d != Due::kNone) {
    auto shared = std::make_shared<Bytes>(std::move(data));
    const auto ec = fire(d, [self, shared, done] { self->write_body(std::move(*shared), done); });
    if (ec) boost::asio::post(executor(), [done, ec] { done(ec); });
    return;
  }
  if (const auto wait = throttle_wait(); wait.count() > 0) {
    if (!logged_throttle_) {
      logged_throttle_ = true;
      engine_.record("throttle", request(), fmt::format("\"bytes_per_s\":{}", *plan_.throttle));
    }
    auto shared = std::make_shared<Bytes>(std::move(data));
    timer_.expires_after(wait);
    timer_.async_wait([self, shared, done](boost::system::error_code) { self->write_body(std::move(*shared), done); });
    return;
  }
  const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), until_next()));
  if (take == data.size()) {
    count_ += take;
    inner_->write_body(std::move(data), std::move(done));
    return;
  }
  Bytes rest(data.begin() + take, data.end());
  data.resize(take);
  count_ += take;
  inner_->write_body(std::move(data), [self, rest = std::move(rest), done](boost::system::error_code ec) mutable {
    if (ec) {
      done(ec);
      return;
    }
    self->write_body(std::move(rest), std::move(done));
  });
}

}  // namespace xts
