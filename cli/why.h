// `xfer why ID`: one transfer's state said as the reasons behind it, for an operator asking why
// a file has not arrived: what it waits for (a slot, a retry time, a secret, a fix of a local
// error, a run on the journal), the last thing the server answered, the limits in force.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <xfer/transfer_status.h>

namespace xfer::cli {

struct WhyContext {
  bool running = false;                 // an xfer runs on the journal (its socket answered)
  std::optional<std::string> limits;    // that run's limits, as `xfer limit` shows them
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// The lines of the explanation, headline first.
std::vector<std::string> explain_transfer(const TransferStatus& status, const WhyContext& context);

}  // namespace xfer::cli
