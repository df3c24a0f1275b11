// FaultEngine: the server's fault state — the --fault spec, the spec set at run time through
// /_control/faults, the per-server `times` counters, the seeded random source behind `chance`,
// the etag-change generation and the log of injected faults. Thread-safe.
#pragma once

#include <cstdint>
#include <expected>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "testserver/app/fault_spec.h"
#include "testserver/exchange.h"

namespace xts {

class FaultEngine {
 public:
  FaultEngine(std::vector<FaultItem> server_wide, std::uint64_t seed);

  // The faults one request gets: server-wide, control, then the request's own (Xfer-Fault
  // header, ?fault= query). A malformed per-request spec is an error (the caller answers 400).
  std::expected<FaultPlan, std::string> plan_for(const Request& request);
  // True if the request asks for faults itself (Xfer-Fault header or ?fault=).
  static bool has_request_faults(const Request& request);

  void set_control(std::vector<FaultItem> items);
  void clear_control();
  std::string control_text() const;

  // Records one injected fault: a JSON line on stderr and an entry in the log.
  void record(std::string_view fault, const Request& request, std::string_view detail_json = {});
  // JSON array of the recorded faults.
  std::string log_json() const;

  // Increments and returns the etag-change generation.
  std::uint64_t next_etag_generation();

 private:
  bool arm(const FaultItem& item);  // chance and times; caller holds mutex_

  mutable std::mutex mutex_;
  std::vector<FaultItem> server_wide_;
  std::vector<FaultItem> control_;
  std::unordered_map<std::string, std::uint64_t> times_used_;
  std::mt19937_64 rng_;
  std::vector<std::string> log_;
  std::uint64_t etag_generation_ = 0;
};

}  // namespace xts
