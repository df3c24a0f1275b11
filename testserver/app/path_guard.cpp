#include "testserver/app/path_guard.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "testserver/app/utf8.h"

namespace xts {

std::optional<PathGuard> PathGuard::create(const std::string& root) {
  char buf[PATH_MAX];
  if (::realpath(root.c_str(), buf) == nullptr) return std::nullopt;
  return PathGuard(buf);
}

std::expected<std::string, PathError> PathGuard::clean(std::string_view rel) {
  if (rel.size() > kMaxPathBytes) return std::unexpected(PathError::kTooLong);
  if (rel.empty() || rel.front() == '/') return std::unexpected(PathError::kBad);
  if (rel.find('\0') != std::string_view::npos) return std::unexpected(PathError::kBad);
  if (rel.find('\\') != std::string_view::npos) return std::unexpected(PathError::kBad);
  if (!is_valid_utf8(rel)) return std::unexpected(PathError::kBad);
  std::string out;
  std::size_t pos = 0;
  std::size_t segments = 0;
  while (pos <= rel.size()) {
    auto slash = rel.find('/', pos);
    if (slash == std::string_view::npos) slash = rel.size();
    const auto seg = rel.substr(pos, slash - pos);
    if (++segments > kMaxPathSegments || seg.size() > kMaxSegmentBytes) return std::unexpected(PathError::kTooLong);
    if (seg.empty() || seg == "." || seg == "..") return std::unexpected(PathError::kBad);
    for (unsigned char c : seg) {
      if (c < 0x20 || c == 0x7f) return std::unexpected(PathError::kBad);
    }
    if (!out.empty()) out += '/';
    out += seg;
    pos = slash + 1;
  }
  return out;
}

bool PathGuard::inside(const std::string& abs) const {
  return abs.size() > root_.size() && abs.compare(0, root_.size(), root_) == 0 &&
         abs[root_.size()] == '/';
}

std::optional<std::string> PathGuard::resolve_existing(std::string_view rel, PathError* err) const {
  const auto c = clean(rel);
  if (!c) {
    *err = c.error();
    return std::nullopt;
  }
  const std::string joined = root_ + "/" + *c;
  char buf[PATH_MAX];
  if (::realpath(joined.c_str(), buf) == nullptr) {
    *err = PathError::kNotFound;
    return std::nullopt;
  }
  std::string abs(buf);
  if (!inside(abs)) {
    *err = PathError::kOutside;
    return std::nullopt;
  }
  return abs;
}

void PathGuard::remove_created(const NewPath& path) {
  for (auto it = path.created.rbegin(); it != path.created.rend(); ++it) {
    if (::rmdir(it->c_str()) != 0) break;  // not empty any more: neither are its parents
  }
}

std::expected<NewPath, PathError> PathGuard::prepare_new(std::string_view rel) const {
  const auto c = clean(rel);
  if (!c) return std::unexpected(c.error());
  NewPath out;
  const auto fail = [&](PathError e) {
    remove_created(out);
    return std::unexpected(e);
  };
  // Create and check each parent directory in turn so a symlinked component cannot lead out.
  // The segment limit keeps this walk (one realpath per level) short.
  std::string dir = root_;
  std::size_t pos = 0;
  for (;;) {
    const auto slash = c->find('/', pos);
    if (slash == std::string::npos) break;
    const std::string next = dir + "/" + c->substr(pos, slash - pos);
    if (::mkdir(next.c_str(), 0755) == 0) {
      out.created.push_back(next);
    } else if (errno != EEXIST) {
      return fail(errno == ENOSPC || errno == EDQUOT ? PathError::kNoSpace : PathError::kNotFound);
    }
    char buf[PATH_MAX];
    if (::realpath(next.c_str(), buf) == nullptr) return fail(PathError::kNotFound);
    std::string resolved(buf);
    struct stat st{};
    if (!inside(resolved) || ::stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) return fail(PathError::kOutside);
    dir = resolved;
    pos = slash + 1;
  }
  out.target = dir + "/" + c->substr(pos);
  // An existing symlink at the target would be replaced by rename(), not followed; a directory
  // there cannot be replaced by a file.
  struct stat lst{};
  if (::lstat(out.target.c_str(), &lst) == 0 && S_ISDIR(lst.st_mode)) return fail(PathError::kBad);
  return out;
}

}  // namespace xts
