// xfer::Error and xfer::Result<T>: the one error vocabulary of every client-side folder
// (transfer/, protocols/, store/, cli/). Errors are values; no exception crosses the public
// API. An Error says what kind of failure it was, whether trying again may help, and a
// human-readable message that names the cause. (The test server keeps its own; see design.md.)
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace xfer {

// Journaled as its value (a transfer's last error, a failed event): never renumber.
enum class ErrorCategory : std::uint8_t {
  Network = 0,          // connect, reset, timeout, DNS: the path to the peer failed
  Tls = 1,              // handshake or certificate verification
  HttpStatus = 2,       // the peer answered with a status we cannot use (carried in http_status)
  Protocol = 3,         // the peer violated the protocol or lied (bad Content-Range, bad offset)
  Integrity = 4,        // digest or checksum mismatch
  LocalIo = 5,          // a local file or directory operation failed
  DiskFull = 6,         // ENOSPC / EDQUOT
  Journal = 7,          // the journal is corrupt, locked, or from a newer version
  InvalidArgument = 8,  // the caller asked for something impossible
  NotFound = 9,         // no such transfer / record
  Cancelled = 10,       // cancelled by the caller
  Internal = 11,        // a bug: an invariant did not hold
};
inline constexpr std::uint8_t kLastErrorCategory = 11;

// "network", "http", "disk-full", ...: the names describe() starts with.
std::string_view to_string(ErrorCategory category);
std::optional<ErrorCategory> error_category_named(std::string_view name);

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

  bool operator==(const Error&) const = default;

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
