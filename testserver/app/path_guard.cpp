#include "testserver/app/path_guard.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <sys/stat.h>

namespace xts {

std::optional<PathGuard> PathGuard::create(const std::string& root) {
  char buf[PATH_MAX];
  if (::realpath(root.c_str(), buf) == nullptr) return std::nullopt;
  return PathGuard(buf);
}

std::optional<std::string> PathGuard::clean(std::string_view rel) {
  if (rel.empty() || rel.front() == '/') return std::nullopt;
  if (rel.find('\0') != std::string_view::npos) return std::nullopt;
  if (rel.find('\\') != std::string_view::npos) return std::nullopt;
  std::string out;
  std::size_t pos = 0;
  while (pos <= rel.size()) {
    auto slash = rel.find('/', pos);
    if (slash == std::string_view::npos) slash = rel.size();
    const auto seg = rel.substr(pos, slash - pos);
    if (seg.empty() || seg == "." || seg == "..") return std::nullopt;
    for (unsigned char c : seg) {
      if (c < 0x20 || c == 0x7f) return std::nullopt;
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
    *err = PathError::kBad;
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

std::optional<std::string> PathGuard::prepare_new(std::string_view rel, PathError* err) const {
  const auto c = clean(rel);
  if (!c) {
    *err = PathError::kBad;
    return std::nullopt;
  }
  // Create and check each parent directory in turn so a symlinked component cannot lead out.
  std::string dir = root_;
  std::size_t pos = 0;
  for (;;) {
    const auto slash = c->find('/', pos);
    if (slash == std::string::npos) break;
    const std::string next = dir + "/" + c->substr(pos, slash - pos);
    if (::mkdir(next.c_str(), 0755) != 0 && errno != EEXIST) {
      *err = PathError::kNotFound;
      return std::nullopt;
    }
    char buf[PATH_MAX];
    if (::realpath(next.c_str(), buf) == nullptr) {
      *err = PathError::kNotFound;
      return std::nullopt;
    }
    std::string resolved(buf);
    struct stat st{};
    if (!inside(resolved) || ::stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
      *err = PathError::kOutside;
      return std::nullopt;
    }
    dir = resolved;
    pos = slash + 1;
  }
  const std::string target = dir + "/" + c->substr(pos);
  // An existing symlink at the target would be replaced by rename(), not followed; still,
  // refuse one that points outside so readers never see an escape.
  struct stat lst{};
  if (::lstat(target.c_str(), &lst) == 0 && S_ISDIR(lst.st_mode)) {
    *err = PathError::kBad;
    return std::nullopt;
  }
  return target;
}

}  // namespace xts
