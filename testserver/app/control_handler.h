// ControlHandler: /_control/ (only with --control): set, show and clear the run-time fault
// spec, read the fault log, set the default upload limits, run expiry now.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <memory>

#include "testserver/app/fault_engine.h"
#include "testserver/app/upload_handler.h"
#include "testserver/exchange.h"

namespace xts {

class ControlHandler {
 public:
  // `requests`: requests served (control ones not counted) by protocol ("http/1.1", "h2",
  // "h3"), for /_control/stats: which protocol a client under test really used.
  ControlHandler(FaultEngine& faults, std::shared_ptr<UploadHandler> uploads,
                 const std::map<std::string, std::uint64_t>& requests)
      : faults_(faults), uploads_(std::move(uploads)), requests_(requests) {}
  void handle(const std::shared_ptr<Exchange>& ex, std::string_view sub);

 private:
  FaultEngine& faults_;
  std::shared_ptr<UploadHandler> uploads_;
  const std::map<std::string, std::uint64_t>& requests_;
};

}  // namespace xts
