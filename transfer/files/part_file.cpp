#include "transfer/files/part_file.h"

#include <fmt/format.h>

#include "base/crash_point.h"
#include "transfer/files/destination_check.h"

namespace xfer::files {

std::string part_path(const std::string& destination) { return destination + ".part"; }

std::string parent_directory(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Result<void> publish_part(FileSystem& fs, File& part, const std::string& part_file,
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
  crash_point("finalize-synced");
  // The destination may have become a directory or a device since the download started, or
  // the part's name may now point at another file: rename only our own inode, over a file.
  if (auto r = check_destination_path(fs, destination); !r) return r;
  auto ours = part.identity();
  if (!ours) return std::unexpected(ours.error());
  auto named = fs.inspect(part_file);
  if (!named) return std::unexpected(named.error());
  if (!*named || (*named)->kind != FileKind::Regular || (*named)->identity != *ours)
    return fail(ErrorCategory::LocalIo,
                fmt::format("{} was replaced or removed while xfer wrote it; not renaming it "
                            "into place", part_file));
  if (auto r = fs.rename(part_file, destination); !r) return r;
  crash_point("finalize-renamed");
  return {};
}

Result<void> finalize_part(FileSystem& fs, File& part, const std::string& part_file,
                           const std::string& destination, const FinalizeChecks& checks,
                           PrefixDigest& digest) {
  if (auto r = publish_part(fs, part, part_file, destination, checks, digest); !r) return r;
  auto synced = fs.sync_dir(parent_directory(destination));
  if (synced) crash_point("finalize-dir-synced");
  return synced;
}

}  // namespace xfer::files
