// xfer::Error and xfer::Result<T>: the one error vocabulary of every client-side folder
// (transfer/, protocols/, store/, cli/). Errors are values; no exception crosses the public
// API. An Error says what kind of failure it was, whether trying again may help, and a
// human-readable message that names the cause. (The test server keeps its own; see design.md.)
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace xfer {

enum class ErrorCategory {
  Network,           // connect, reset, timeout, DNS: the path to the peer failed
  Tls,               // handshake or certificate verification
  HttpStatus,        // the peer answered with a status we cannot use (carried in http_status)
  Protocol,          // the peer violated the protocol or lied (bad Content-Range, bad offset)
  Integrity,         // digest or checksum mismatch
  LocalIo,           // a local file or directory operation failed
  DiskFull,          // ENOSPC / EDQUOT
  Journal,           // the journal is corrupt, locked, or from a newer version
  InvalidArgument,   // the caller asked for something impossible
  NotFound,          // no such transfer / record
  Cancelled,         // cancelled by the caller
  Internal,          // a bug: an invariant did not hold
};

std::string_view to_string(ErrorCategory category);

class [[nodiscard]] Error {
 public:
  Error(ErrorCategory category, std::string message, bool retryable = false, int http_status = 0)
      : category_(category),
        message_(std::move(message)),
        retryable_(retryable),
        http_status_(http_status) {}

  ErrorCategory category() const { return category_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return retryable_; }
  // The HTTP status for HttpStatus errors, 0 otherwise.
  int http_status() const { return http_status_; }

  // "<category>: <message>", for logs and the CLI's one-line reason.
  std::string describe() const;

  // Prefixes the message with context ("opening journal /x: ") keeping the rest.
  Error with_context(std::string_view context) const;

 private:
  ErrorCategory category_;
  std::string message_;
  bool retryable_;
  int http_status_;
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorCategory category, std::string message,
                                   bool retryable = false) {
  return std::unexpected<Error>(Error(category, std::move(message), retryable));
}

// An Error from errno after a failed system call: ENOSPC/EDQUOT become DiskFull.
Error error_from_errno(int err, std::string_view what);

}  // namespace xfer
