#include "store/leveldb_errors.h"

#include <string>

#include <fmt/format.h>

namespace xfer::store {
namespace {

bool contains(const std::string& text, std::string_view needle) { return text.find(needle) != std::string::npos; }

}  // namespace

Error error_from_leveldb(const leveldb::Status& status, std::string_view what, std::string_view directory) {
  const std::string text = status.ToString();
  if (contains(text, "No space left on device") || contains(text, "Disk quota exceeded"))
    return Error(ErrorCategory::DiskFull,
                 fmt::format("{} in journal {}: the filesystem is full ({})", what, directory, text));
  if (contains(text, "Read-only file system"))
    return Error(ErrorCategory::LocalIo,
                 fmt::format("{} in journal {}: the directory is on a read-only filesystem ({})", what,
                             directory, text));
  if (contains(text, "Permission denied"))
    return Error(ErrorCategory::LocalIo,
                 fmt::format("{} in journal {}: permission denied ({})", what, directory, text));
  if (status.IsIOError() && contains(text, "lock ") &&
      (contains(text, "already held by process") || contains(text, "temporarily unavailable")))
    return Error(ErrorCategory::Journal,
                 fmt::format("{}: journal {} is in use by another opener ({})", what, directory, text));
  if (status.IsCorruption())
    return Error(ErrorCategory::Journal, fmt::format("{}: journal {} is corrupt ({})", what, directory, text));
  if (status.IsNotFound())
    return Error(ErrorCategory::NotFound, fmt::format("{}: journal {}: {}", what, directory, text));
  if (status.IsIOError())
    return Error(ErrorCategory::LocalIo, fmt::format("{} in journal {}: {}", what, directory, text));
  return Error(ErrorCategory::Journal, fmt::format("{} in journal {}: {}", what, directory, text));
}

bool is_damage(const leveldb::Status& status) {
  if (status.IsCorruption()) return true;
  const std::string text = status.ToString();
  return status.IsIOError() && contains(text, "Invalid argument") && (contains(text, ".ldb") || contains(text, ".sst"));
}

}  // namespace xfer::store
