// Fuzz target (test server; links only xts_server): the path confinement of /files/ and upload
// destinations (testserver/app/path_guard), fed the way requests feed it: the input raw and
// percent-decoded (testserver/net/request_target). A small root is built once in a temp
// directory, with symlinks that stay inside, lead outside (relative and absolute) and loop.
// Checks: clean() accepts only relative paths without empty, "." or ".." segments, NUL,
// backslash or control characters, and returns them unchanged; resolve_existing() returns only
// existing, symlink-free paths strictly inside the root (never the outside file, whatever the
// symlinks), and sets the error on failure (kBad only when clean() refuses).
// prepare_new() is left out: it creates directories, which a fuzzer would do millions of times.
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "testserver/app/path_guard.h"
#include "testserver/net/request_target.h"
#include "tests/fuzz/fuzz_support.h"

namespace fs = std::filesystem;

namespace {

struct Sandbox {
  fs::path base;
  std::string outside;  // a file next to the root
  std::optional<xts::PathGuard> guard;

  Sandbox() {
    const char* tmp = std::getenv("TMPDIR");
    const fs::path dir = tmp && *tmp ? tmp : "/tmp";
    const std::string prefix = "xfer-fuzz-pathguard-";
    // A run that crashed or timed out ends without destructors, so sandboxes whose owner (the
    // pid in the name) is gone are removed here.
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (!name.starts_with(prefix)) continue;
      const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ec);
    }
    base = dir / (prefix + std::to_string(::getpid()));
    fs::remove_all(base, ec);
    fs::create_directories(base);
    const fs::path root = base / "root";
    fs::create_directories(root / "dir" / "sub");
    std::ofstream(base / "outside.txt") << "outside";
    std::ofstream(root / "a.txt") << "a";
    std::ofstream(root / "dir" / "b.txt") << "b";
    std::ofstream(root / "dir" / "sub" / "c.txt") << "c";
    fs::create_symlink("..", root / "up");                // leads out of the root
    fs::create_symlink("../outside.txt", root / "esc");   // a file outside
    fs::create_symlink(base / "outside.txt", root / "abs");
    fs::create_symlink("/", root / "slash");
    fs::create_symlink("../a.txt", root / "dir" / "back");  // stays inside
    fs::create_symlink("sub", root / "dir" / "s");
    fs::create_symlink("loop", root / "loop");
    guard = xts::PathGuard::create(root.string());
    if (!guard) std::abort();
    outside = fs::canonical(base / "outside.txt").string();
  }
  ~Sandbox() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
  static Sandbox& instance() {
    static Sandbox s;
    return s;
  }
};

bool lexically_clean(std::string_view rel) {
  if (rel.empty() || rel.front() == '/') return false;
  std::size_t pos = 0;
  while (pos <= rel.size()) {
    auto slash = rel.find('/', pos);
    if (slash == std::string_view::npos) slash = rel.size();
    const auto seg = rel.substr(pos, slash - pos);
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (const unsigned char c : seg) {
      if (c < 0x20 || c == 0x7f || c == '\\') return false;
    }
    pos = slash + 1;
  }
  return true;
}

void check(std::string_view rel) {
  Sandbox& box = Sandbox::instance();
  // clean() may refuse more than the model (limits, encodings), never less; what it accepts it
  // returns unchanged. (auto: clean() returns optional or expected, both read the same here.)
  const auto cleaned = xts::PathGuard::clean(rel);
  if (cleaned) {
    FUZZ_CHECK(lexically_clean(rel));
    FUZZ_CHECK(*cleaned == rel);
  }

  constexpr auto kUnset = static_cast<xts::PathError>(-1);
  xts::PathError err = kUnset;
  const auto resolved = box.guard->resolve_existing(rel, &err);
  if (!resolved) {
    FUZZ_CHECK(err != kUnset);
    if (err == xts::PathError::kBad) FUZZ_CHECK(!cleaned.has_value());
    if (err == xts::PathError::kNotFound || err == xts::PathError::kOutside) FUZZ_CHECK(cleaned.has_value());
    return;
  }
  FUZZ_CHECK(cleaned.has_value());
  const std::string& root = box.guard->root();
  FUZZ_CHECK(resolved->size() > root.size() + 1);
  FUZZ_CHECK(resolved->compare(0, root.size(), root) == 0 && (*resolved)[root.size()] == '/');
  FUZZ_CHECK(*resolved != box.outside);
  struct stat st{};
  FUZZ_CHECK(::lstat(resolved->c_str(), &st) == 0 && !S_ISLNK(st.st_mode));  // symlinks resolved
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 1024) return 0;  // PATH_MAX-sized inputs add nothing but realpath calls
  const std::string_view input = xfer_fuzz::as_text(data, size);
  check(input);
  // As a request reaches it: "/files/<input>" split and decoded, the prefix stripped.
  const auto split = xts::net::split_request_target("/files/" + std::string(input));
  if (split.path.starts_with("/files/")) check(std::string_view(split.path).substr(7));
  return 0;
}
