#include "cli/bandwidth_control.h"

#include <algorithm>

namespace xfer::cli {
namespace {
constexpr std::chrono::seconds kLookAgain{60};
}

BandwidthControl::BandwidthControl(Engine& engine, RateSchedule whole_run, RateSchedule per_transfer)
    : engine_(engine), whole_run_(std::move(whole_run)), per_transfer_(std::move(per_transfer)) {
  {
    std::lock_guard lock(mutex_);
    (void)apply_locked();
  }
  thread_ = std::thread([this] { run(); });
}

BandwidthControl::~BandwidthControl() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

Result<void> BandwidthControl::replace(RateSchedule schedule, bool per_transfer) {
  {
    std::lock_guard lock(mutex_);
    (per_transfer ? per_transfer_ : whole_run_) = std::move(schedule);
    (void)apply_locked();
  }
  changed_.notify_all();  // the next change may now be sooner
  return {};
}

BandwidthControl::Shown BandwidthControl::shown() {
  std::lock_guard lock(mutex_);
  return Shown{whole_run_.text(), per_transfer_.text(), whole_run_now_, per_transfer_now_};
}

std::chrono::seconds BandwidthControl::apply_locked() {
  const auto whole = whole_run_.now();
  const auto each = per_transfer_.now();
  if (whole.rate != whole_run_now_ || each.rate != per_transfer_now_ || !applied_) {
    // Fails only once the engine stopped, when no limit matters any more.
    (void)engine_.set_rate_limits(whole.rate, each.rate);
    whole_run_now_ = whole.rate;
    per_transfer_now_ = each.rate;
    applied_ = true;
  }
  auto wait = kLookAgain;
  for (const auto& holds : {whole.holds_for, each.holds_for})
    if (holds) wait = std::min(wait, std::max(*holds, std::chrono::seconds(1)));
  return wait;
}

void BandwidthControl::run() {
  std::unique_lock lock(mutex_);
  auto wait = apply_locked();
  while (!stopping_) {
    changed_.wait_for(lock, wait);
    if (stopping_) return;
    wait = apply_locked();
  }
}

}  // namespace xfer::cli
