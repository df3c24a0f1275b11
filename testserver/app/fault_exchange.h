// FaultExchange: an Exchange decorator that injects the byte-stream faults of one request's
// FaultPlan — reset-after, close-after, crash-after, stall, throttle — and drops 104s for
// no-104. It counts request body bytes for requests that carry an upload body (POST, PUT,
// PATCH) and response body bytes otherwise, so the same plan works on every transport.
// A threshold cuts exactly: the handler sees precisely <bytes> bytes before the fault fires.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "testserver/app/fault_engine.h"
#include "testserver/exchange.h"

namespace xts {

class FaultExchange final : public Exchange, public std::enable_shared_from_this<FaultExchange> {
 public:
  FaultExchange(std::shared_ptr<Exchange> inner, FaultPlan plan, FaultEngine& engine);

  const Request& request() const override { return inner_->request(); }
  boost::asio::any_io_executor executor() override { return inner_->executor(); }
  void read_body(BodyHandler handler) override;
  void send_interim(int status, const Headers& headers) override;
  void send_response_head(int status, const Headers& headers,
                          std::optional<std::uint64_t> content_length) override {
    inner_->send_response_head(status, headers, content_length);
  }
  void await_room(std::size_t max, RoomHandler ready) override;
  void write_body(Bytes data, WriteHandler done) override;
  void finish() override { inner_->finish(); }
  void abort_reset() override { inner_->abort_reset(); }
  void abort_close() override { inner_->abort_close(); }
  bool closed() const override { return aborted_ || inner_->closed(); }

 private:
  enum class Due { kNone, kReset, kClose, kCrash, kStall };
  Due due() const;  // a fault whose threshold equals the current count
  std::uint64_t until_next() const;  // bytes that may pass before the next threshold
  // Fires `d`; returns the error to report, or nothing for a stall (then `resume` runs later).
  boost::system::error_code fire(Due d, std::function<void()> resume);
  std::chrono::steady_clock::duration throttle_wait() const;
  void read_now(BodyHandler handler);
  void deliver(std::span<const std::uint8_t> data, BodyHandler handler);

  std::shared_ptr<Exchange> inner_;
  FaultPlan plan_;
  FaultEngine& engine_;
  bool count_request_;
  std::uint64_t count_ = 0;
  bool stalled_ = false;
  bool aborted_ = false;
  bool logged_no104_ = false;
  bool logged_throttle_ = false;
  std::vector<std::uint8_t> pending_;  // read from the peer but not yet handed on
  bool pending_eof_ = false;
  std::chrono::steady_clock::time_point start_;
  boost::asio::steady_timer timer_;
};

}  // namespace xts
