#include "cli/orphan_parts.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

namespace xfer::cli {

Result<std::vector<std::string>> find_orphan_parts(Engine& engine,
                                                   const std::vector<std::string>& extra_dirs) {
  namespace fs = std::filesystem;
  auto known = engine.journaled_paths();
  if (!known) return std::unexpected(known.error());
  std::set<std::string> dirs(extra_dirs.begin(), extra_dirs.end());
  std::set<std::string> owned;
  for (const auto& p : *known) {
    if (p.direction == Direction::Upload) continue;  // its path is a source: no .part
    dirs.insert(fs::path(p.path).parent_path().string());
    if (p.may_own_part) owned.insert(p.path + ".part");
  }
  std::vector<std::string> orphans;
  for (const auto& dir : dirs) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const auto& path = it->path();
      if (path.extension() != ".part" || !it->is_regular_file(ec) || it->is_symlink(ec)) continue;
      const auto absolute = fs::absolute(path).lexically_normal().string();
      if (!owned.contains(absolute)) orphans.push_back(absolute);
    }
  }
  std::sort(orphans.begin(), orphans.end());
  return orphans;
}

}  // namespace xfer::cli
