#include "testserver/net/response_budget.h"

#include <algorithm>

#include <boost/asio/post.hpp>

namespace xts::net {

void ResponseBudget::take(std::size_t n) {
  used_ += n;
  peak_ = std::max(peak_, used_);
}

void ResponseBudget::give(std::size_t n) {
  used_ -= std::min(n, used_);
  if (!waiters_.empty() && room() > 0) wake_soon();
}

void ResponseBudget::wait(const std::shared_ptr<Waiter>& w) {
  if (!queued_.insert(w).second) return;
  waiters_.push_back(w);
  if (room() > 0) wake_soon();  // room opened between the caller's check and now
}

std::size_t ResponseBudget::take_peak() {
  const auto peak = peak_;
  peak_ = used_;
  return peak;
}

void ResponseBudget::wake_soon() {
  if (wake_posted_) return;
  wake_posted_ = true;
  boost::asio::post(executor_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    wake_posted_ = false;
    // Wake in order while there is room; a waiter that still finds none queues again.
    while (!waiters_.empty() && room() > 0) {
      auto weak = std::move(waiters_.front());
      waiters_.pop_front();
      queued_.erase(weak);
      if (auto w = weak.lock()) w->on_budget_room();
    }
  });
}

void BudgetShare::set(std::size_t n) {
  if (n == held_) return;
  for (auto* budget : {connection_, server_}) {
    if (budget == nullptr) continue;
    if (n > held_) {
      budget->take(n - held_);
    } else {
      budget->give(held_ - n);
    }
  }
  held_ = n;
}

}  // namespace xts::net
