#include "testserver/net/memory_trimmer.h"

#include <malloc.h>

#include <chrono>

namespace xts::net {

namespace {
// Below this a drop is ordinary traffic: not worth walking the heap for.
constexpr std::size_t kReleasedWorthTrimming = 8 * 1024 * 1024;
}  // namespace

MemoryTrimmer::MemoryTrimmer(boost::asio::any_io_executor executor, const ConnectionRegistry& registry,
                             std::shared_ptr<ResponseBudget> budget)
    : timer_(std::move(executor)), registry_(registry), budget_(std::move(budget)) {}

void MemoryTrimmer::start() {
  stopped_ = false;
  last_connections_ = registry_.size();
  tick();
}

void MemoryTrimmer::stop() {
  stopped_ = true;
  timer_.cancel();
}

void MemoryTrimmer::tick() {
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    const auto connections = registry_.size();
    const auto peak = budget_->take_peak();
    const bool released = peak - budget_->used() >= kReleasedWorthTrimming;
    if (connections < last_connections_ || released) ::malloc_trim(0);
    last_connections_ = connections;
    tick();
  });
}

}  // namespace xts::net
