// ResponseBudget: response body bytes a transport holds for its peers (queued behind a peer's
// flow-control window or a slow socket) against a limit. There is one per HTTP/2 connection
// and one for the whole server: a handler may only read more of a body once every budget its
// stream draws on has room (Exchange::await_room), so what a server holds for stalled peers
// is bounded by the limits, not by the number of streams. Waiters are woken, posted and in the
// order they came, when room opens. Event-loop thread only.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <set>

#include <boost/asio/any_io_executor.hpp>

namespace xts::net {

class ResponseBudget {
 public:
  class Waiter {
   public:
    virtual ~Waiter() = default;
    // Room may have opened: check again (and wait again if there still is none).
    virtual void on_budget_room() = 0;
  };

  ResponseBudget(boost::asio::any_io_executor executor, std::size_t limit)
      : executor_(std::move(executor)), limit_(limit) {}
  ResponseBudget(const ResponseBudget&) = delete;
  ResponseBudget& operator=(const ResponseBudget&) = delete;

  std::size_t used() const { return used_; }
  std::size_t room() const { return used_ >= limit_ ? 0 : limit_ - used_; }
  void take(std::size_t n);
  void give(std::size_t n);
  // Queues w until room opens (once, however often it asks).
  void wait(const std::shared_ptr<Waiter>& w);
  // The highest use since the last call (and starts a new period at the current use): lets
  // the memory trimmer see that a burst of buffered bytes was released.
  std::size_t take_peak();

 private:
  void wake_soon();

  boost::asio::any_io_executor executor_;
  std::size_t limit_;
  std::size_t used_ = 0;
  std::size_t peak_ = 0;
  std::deque<std::weak_ptr<Waiter>> waiters_;
  std::set<std::weak_ptr<Waiter>, std::owner_less<>> queued_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // posted wakes check it
  bool wake_posted_ = false;
};

// One holder's share of up to two budgets (its connection's and the server's): set() moves
// the difference, so callers state what they hold now instead of pairing takes and gives.
class BudgetShare {
 public:
  BudgetShare(ResponseBudget* connection, ResponseBudget* server) : connection_(connection), server_(server) {}
  ~BudgetShare() { set(0); }
  BudgetShare(const BudgetShare&) = delete;
  BudgetShare& operator=(const BudgetShare&) = delete;

  void set(std::size_t n);
  std::size_t held() const { return held_; }
  // Gives everything back and forgets the budgets (the connection is going away).
  void detach() {
    set(0);
    connection_ = server_ = nullptr;
  }
  ResponseBudget* connection() const { return connection_; }
  ResponseBudget* server() const { return server_; }

 private:
  ResponseBudget* connection_;
  ResponseBudget* server_;
  std::size_t held_ = 0;
};

}  // namespace xts::net
