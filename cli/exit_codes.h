// Exit codes of the xfer CLI, one per error category (docs/cli.md lists them). Scripts can tell
// "try again later" (network, HTTP 5xx, paused) from "this will never work" (4xx, integrity).
#pragma once

#include <string_view>

#include <xfer/error.h>

namespace xfer::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 2,
  kExitNetwork = 3,
  kExitTls = 4,
  kExitHttp = 5,
  kExitProtocol = 6,
  kExitIntegrity = 7,
  kExitLocalIo = 8,
  kExitDiskFull = 9,
  kExitJournal = 10,
  kExitCancelled = 11,
  kExitInternal = 12,
  kExitSomeFailed = 13,    // xfer batch: some entries failed or were invalid (the summary lists them)
  kExitInterrupted = 130,  // SIGINT/SIGTERM: checkpointed, `xfer resume` continues
};

int exit_code_for(ErrorCategory category);

}  // namespace xfer::cli
