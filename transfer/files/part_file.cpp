#include "transfer/files/part_file.h"

#include <fmt/format.h>

namespace xfer::files {

std::string part_path(const std::string& destination) { return destination + ".part"; }

std::string parent_directory(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Result<void> finalize_part(FileSystem& fs, File& part, const std::string& part_file,
                           const std::string& destination, const FinalizeChecks& checks,
                           PrefixDigest& digest) {
  auto size = part.size();
  if (!size) return std::unexpected(size.error());
  if (checks.size && *size != *checks.size) {
    if (*size < *checks.size)
      return fail(ErrorCategory::Protocol,
                  fmt::format("download is {} bytes, the server announced {}", *size,
                              *checks.size),
                  true);
    // Stale bytes past the end (an older, longer representation): not part of this one.
    if (auto r = part.truncate(*checks.size); !r) return r;
  }
  const auto length = checks.size.value_or(*size);
  if (auto r = digest.verify(part, length, checks.digests); !r) return r;
  if (auto r = part.sync(); !r) return r;
  if (auto r = fs.rename(part_file, destination); !r) return r;
  return fs.sync_dir(parent_directory(destination));
}

}  // namespace xfer::files
