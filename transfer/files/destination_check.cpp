#include "transfer/files/destination_check.h"

#include <fmt/format.h>

#include "transfer/files/part_file.h"

namespace xfer::files {
namespace {

Error local(std::string message) { return Error(ErrorCategory::LocalIo, std::move(message)); }

bool replaceable(FileKind kind) { return kind == FileKind::Regular; }

Result<void> check_parent(FileSystem& fs, const std::string& destination) {
  // The engine creates missing parents, so what matters is the nearest one that exists.
  std::string dir = parent_directory(destination);
  for (int depth = 0; depth < 4096; ++depth) {
    auto seen = fs.inspect_target(dir);
    if (!seen) return std::unexpected(seen.error());
    if (*seen) {
      if ((*seen)->kind != FileKind::Directory)
        return std::unexpected(local(fmt::format("cannot create {}: {} is a {}, not a directory",
                                                 destination, dir, to_string((*seen)->kind))));
      if (!fs.can_write_in(dir))
        return std::unexpected(local(fmt::format("cannot create {}: no permission to write in {}",
                                                 destination, dir)));
      return {};
    }
    const std::string up = parent_directory(dir);
    if (up == dir) break;
    dir = up;
  }
  return std::unexpected(local(fmt::format("cannot create {}: no existing parent directory",
                                           destination)));
}

}  // namespace

Result<void> check_destination_path(FileSystem& fs, const std::string& destination,
                                    std::set<std::string>* checked_parents) {
  if (destination.empty())
    return fail(ErrorCategory::InvalidArgument, "the destination path is empty");
  if (destination.back() == '/')
    return fail(ErrorCategory::InvalidArgument,
                fmt::format("the destination {} names a directory, not a file", destination));
  auto seen = fs.inspect(destination);
  if (!seen) return std::unexpected(seen.error());
  if (*seen && (*seen)->kind == FileKind::Symlink) {
    auto target = fs.inspect_target(destination);
    if (!target) return std::unexpected(target.error());
    if (*target && !replaceable((*target)->kind))
      return std::unexpected(local(fmt::format("{} is a symbolic link to a {}; xfer writes only "
                                               "regular files", destination,
                                               to_string((*target)->kind))));
  } else if (*seen && (*seen)->kind == FileKind::Directory) {
    return std::unexpected(local(fmt::format(
        "{} is a directory (to save into it, use -d {} or name the file)", destination,
        destination)));
  } else if (*seen && !replaceable((*seen)->kind)) {
    return std::unexpected(local(fmt::format(
        "{} is a {}; xfer writes only regular files (it renames a verified .part into place, "
        "which would replace the {})", destination, to_string((*seen)->kind),
        to_string((*seen)->kind))));
  }
  const std::string parent = parent_directory(destination);
  if (!checked_parents || !checked_parents->contains(parent)) {
    if (auto r = check_parent(fs, destination); !r) return r;
    if (checked_parents) checked_parents->insert(parent);
  }
  return {};
}

Result<void> check_destination(FileSystem& fs, const std::string& destination,
                               std::set<std::string>* checked_parents) {
  if (auto r = check_destination_path(fs, destination, checked_parents); !r) return r;
  const std::string part = part_path(destination);
  auto part_seen = fs.inspect(part);
  if (!part_seen) return std::unexpected(part_seen.error());
  if (*part_seen && (*part_seen)->kind != FileKind::Regular)
    return std::unexpected(local(fmt::format("refusing to use {}: it is a {}", part,
                                             to_string((*part_seen)->kind))));
  return {};
}

}  // namespace xfer::files
