// PathGuard: confines request paths to one directory (--root or --data). Rejects NUL, control
// characters, backslashes, empty, "." and ".." segments, bytes that are not UTF-8, and paths
// over the limits below — all lexically, before any file-system call — and (after resolving
// symlinks) anything that ends up outside the directory. Promises: a path it returns is
// inside the root it was built with; prepare_new's directories can be taken back.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xts {

// Limits on a path below the root (docs/testserver.md): they keep every per-path walk short
// (creation makes and checks one directory per segment) and joined paths far below PATH_MAX.
inline constexpr std::size_t kMaxPathBytes = 1024;
inline constexpr std::size_t kMaxPathSegments = 32;
inline constexpr std::size_t kMaxSegmentBytes = 255;  // NAME_MAX

enum class PathError { kBad, kTooLong, kNotFound, kOutside, kNoSpace };

// A new file's place: the absolute target and the parent directories made for it.
struct NewPath {
  std::string target;
  std::vector<std::string> created;  // outermost first
};

class PathGuard {
 public:
  // root must exist; it is resolved once with realpath.
  static std::optional<PathGuard> create(const std::string& root);

  const std::string& root() const { return root_; }

  // Checks a relative path lexically ("a/b.txt"); returns the cleaned form.
  static std::expected<std::string, PathError> clean(std::string_view rel);

  // An existing file's absolute path, resolved, inside the root.
  std::optional<std::string> resolve_existing(std::string_view rel, PathError* err) const;

  // The absolute path a new file would get: parent directories are created (inside the root,
  // never through a symlink that leaves it). The file itself need not exist. On failure the
  // directories this call made are removed again.
  std::expected<NewPath, PathError> prepare_new(std::string_view rel) const;
  // Removes the directories prepare_new made, innermost first, as far as they are still empty
  // (a concurrent upload may have put something there meanwhile).
  static void remove_created(const NewPath& path);

 private:
  explicit PathGuard(std::string root) : root_(std::move(root)) {}
  bool inside(const std::string& abs) const;
  std::string root_;
};

}  // namespace xts
