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

int exit_code_for_message(std::string_view described) {
  static constexpr ErrorCategory kAll[] = {
      ErrorCategory::Network,   ErrorCategory::Tls,         ErrorCategory::HttpStatus,
      ErrorCategory::Protocol,  ErrorCategory::Integrity,   ErrorCategory::LocalIo,
      ErrorCategory::DiskFull,  ErrorCategory::Journal,     ErrorCategory::InvalidArgument,
      ErrorCategory::NotFound,  ErrorCategory::Cancelled,   ErrorCategory::Internal};
  for (auto c : kAll) {
    const auto name = to_string(c);
    if (described.size() > name.size() && described.substr(0, name.size()) == name &&
        described[name.size()] == ':')
      return exit_code_for(c);
  }
  return kExitInternal;
}

}  // namespace xfer::cli
