// ControlHandler: /_control/ (only with --control): set, show and clear the run-time fault
// spec, read the fault log, set the default upload limits, run expiry now.
#pragma once

#include <memory>

#include "testserver/app/fault_engine.h"
#include "testserver/app/upload_handler.h"
#include "testserver/exchange.h"

namespace xts {

class ControlHandler {
 public:
  ControlHandler(FaultEngine& faults, std::shared_ptr<UploadHandler> uploads)
      : faults_(faults), uploads_(std::move(uploads)) {}
  void handle(const std::shared_ptr<Exchange>& ex, std::string_view sub);

 private:
  FaultEngine& faults_;
  std::shared_ptr<UploadHandler> uploads_;
};

}  // namespace xts
