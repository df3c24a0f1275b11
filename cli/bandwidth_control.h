// BandwidthControl: keeps a running engine's bandwidth limits what the user's --limit-rate says,
// a schedule included (cli/rate_schedule.h), and lets `xfer limit` replace either limit while
// transfers run. Two limits: the whole run's (`xfer batch --limit-rate`, `xfer daemon
// --limit-rate`, `xfer limit RATE`) and each transfer's (`xfer get/put --limit-rate`, `xfer
// limit --per-transfer RATE`). A thread sleeps until the next change a schedule names (looking
// again at least every minute, so a clock jump is caught) and sets the engine's limits then.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <xfer/engine.h>

#include "cli/rate_schedule.h"

namespace xfer::cli {

class BandwidthControl {
 public:
  BandwidthControl(Engine& engine, RateSchedule whole_run, RateSchedule per_transfer);
  ~BandwidthControl();
  BandwidthControl(const BandwidthControl&) = delete;
  BandwidthControl& operator=(const BandwidthControl&) = delete;

  // Replaces one of the two and applies it at once.
  Result<void> replace(RateSchedule schedule, bool per_transfer);

  struct Shown {
    std::string whole_run_text, per_transfer_text;  // as given ("off" when none)
    std::uint64_t whole_run_now = 0, per_transfer_now = 0;  // bytes/s in force, 0 = none
  };
  Shown shown();

 private:
  // Sets the engine's limits to what the schedules say now; returns how long that holds.
  std::chrono::seconds apply_locked();
  void run();

  Engine& engine_;
  std::mutex mutex_;
  std::condition_variable changed_;
  RateSchedule whole_run_, per_transfer_;
  std::uint64_t whole_run_now_ = 0, per_transfer_now_ = 0;
  bool applied_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace xfer::cli
