#include "cli/exit_codes.h"

namespace xfer::cli {

int exit_code_for(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::Network: return kExitNetwork;
    case ErrorCategory::Tls: return kExitTls;
    case ErrorCategory::HttpStatus: return kExitHttp;
    case ErrorCategory::Protocol: return kExitProtocol;
    case ErrorCategory::Integrity: return kExitIntegrity;
    case ErrorCategory::LocalIo: return kExitLocalIo;
    case ErrorCategory::DiskFull: return kExitDiskFull;
    case ErrorCategory::Journal: return kExitJournal;
    case ErrorCategory::InvalidArgument: return kExitUsage;
    case ErrorCategory::NotFound: return kExitUsage;
    case ErrorCategory::Cancelled: return kExitCancelled;
    case ErrorCategory::Internal: return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace xfer::cli
