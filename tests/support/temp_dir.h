// A fresh directory under $TMPDIR for one test, removed with everything in it when the
// object goes away (unless XFER_KEEP_TEST_DIRS is set, for post-mortems).
#pragma once

#include <filesystem>
#include <string>

namespace xfer::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "xfer-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace xfer::test
