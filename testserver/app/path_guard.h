// PathGuard: confines request paths to one directory (--root or --data). Rejects NUL, empty,
// "." and ".." segments, and (after resolving symlinks) anything that ends up outside the
// directory. Promises: a path it returns is inside the root it was built with.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xts {

enum class PathError { kBad, kNotFound, kOutside };

class PathGuard {
 public:
  // root must exist; it is resolved once with realpath.
  static std::optional<PathGuard> create(const std::string& root);

  const std::string& root() const { return root_; }

  // Checks a relative path lexically ("a/b.txt"); returns the cleaned form.
  static std::optional<std::string> clean(std::string_view rel);

  // An existing file's absolute path, resolved, inside the root.
  std::optional<std::string> resolve_existing(std::string_view rel, PathError* err) const;

  // The absolute path a new file would get: parent directories are created (inside the root,
  // never through a symlink that leaves it). The file itself need not exist.
  std::optional<std::string> prepare_new(std::string_view rel, PathError* err) const;

 private:
  explicit PathGuard(std::string root) : root_(std::move(root)) {}
  bool inside(const std::string& abs) const;
  std::string root_;
};

}  // namespace xts
