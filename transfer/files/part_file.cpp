#include "transfer/files/part_file.h"

#include <vector>

#include <fmt/format.h>

namespace xfer::files {

std::string part_path(const std::string& destination) { return destination + ".part"; }

std::string parent_directory(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Result<void> verify_digest(File& file, const protocols::Digest& expected, std::string_view what) {
  auto hasher = protocols::Hasher::create(expected.algorithm);
  if (!hasher) return std::unexpected(hasher.error());
  std::vector<std::uint8_t> buffer(1 << 20);
  std::uint64_t offset = 0;
  for (;;) {
    auto n = file.read_at(offset, buffer);
    if (!n) return std::unexpected(n.error());
    if (*n == 0) break;
    if (auto r = hasher->update(std::span(buffer.data(), *n)); !r) return r;
    offset += *n;
  }
  auto actual = hasher->finish();
  if (!actual) return std::unexpected(actual.error());
  if (auto r = protocols::check_digest(expected, *actual); !r)
    return std::unexpected(r.error().with_context(what));
  return {};
}

Result<void> finalize_part(FileSystem& fs, File& part, const std::string& part_file,
                           const std::string& destination, const FinalizeChecks& checks) {
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
  if (checks.server_digest) {
    if (auto r = verify_digest(part, *checks.server_digest, "server digest"); !r) return r;
  }
  if (checks.user_checksum) {
    if (auto r = verify_digest(part, *checks.user_checksum, "checksum"); !r) return r;
  }
  if (auto r = part.sync(); !r) return r;
  if (auto r = fs.rename(part_file, destination); !r) return r;
  return fs.sync_dir(parent_directory(destination));
}

}  // namespace xfer::files
