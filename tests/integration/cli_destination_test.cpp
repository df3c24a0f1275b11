// `xfer get` against careless and hostile destinations: devices, FIFOs, a symlinked .part in a
// shared directory, two URLs with one file name, empty and directory paths. Each must fail at
// once with the right exit code, leave no .part, and never touch anything it was not asked to.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "tests/integration/engine_harness.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

struct DestFixture {
  TempDir dir{"xfer-dest"};
  std::unique_ptr<TestServerProcess> server;
  std::string sha;
  DestFixture() {
    fs::create_directories(dir / "root" / "a");
    fs::create_directories(dir / "root" / "b");
    write_pattern_file(dir / "root" / "a" / "data.bin", 200'000, 3);
    write_pattern_file(dir / "root" / "b" / "data.bin", 300'000, 4);
    sha = sha256_file(dir / "root" / "a" / "data.bin");
    server = start_server(dir);
  }
  std::string url(const std::string& path = "a/data.bin") const {
    return server->http_origin() + "/files/" + path;
  }
  std::string journal() const { return (dir / "journal").string(); }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("cli: -o naming a FIFO or a device is refused and the node is left alone",
          "[cli][destination]") {
  DestFixture f;
  const auto fifo = f.dir / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto r = run_cli({"get", f.url(), "-o", fifo.string(), "--journal", f.journal()});
  INFO(r.stderr_text);
  CHECK(r.exit_code == 8);
  CHECK(r.stderr_text.find("FIFO") != std::string::npos);
  CHECK(fs::is_fifo(fifo));
  CHECK_FALSE(fs::exists(fifo.string() + ".part"));

  if (::geteuid() == 0) {  // a private null device, so a regression cannot replace /dev/null
    const auto dev = f.dir / "null";
    REQUIRE(::mknod(dev.c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    auto d = run_cli({"get", f.url(), "-o", dev.string(), "--journal", f.journal()});
    INFO(d.stderr_text);
    CHECK(d.exit_code == 8);
    CHECK(d.stderr_text.find("character device") != std::string::npos);
    CHECK(fs::is_character_file(dev));
    CHECK_FALSE(fs::exists(dev.string() + ".part"));
  }
}

TEST_CASE("cli: a planted DEST.part symlink is never followed or renamed into place",
          "[cli][destination]") {
  DestFixture f;
  const auto victim = f.dir / "victim.txt";
  std::ofstream(victim) << "do not overwrite";
  const auto dest = f.dir / "shared" / "data.bin";
  fs::create_directories(dest.parent_path());
  fs::create_symlink(victim, dest.string() + ".part");
  auto r = run_cli({"get", f.url(), "-o", dest.string(), "--journal", f.journal()});
  INFO(r.stderr_text);
  CHECK(r.exit_code == 8);
  CHECK(r.stderr_text.find("symbolic link") != std::string::npos);
  CHECK(slurp(victim) == "do not overwrite");
  CHECK_FALSE(fs::exists(dest));
  CHECK(fs::is_symlink(dest.string() + ".part"));
}

TEST_CASE("cli: two URLs with one file name in -d are refused before any byte moves",
          "[cli][destination]") {
  DestFixture f;
  const auto out = f.dir / "out";
  auto r = run_cli({"get", f.url("a/data.bin"), f.url("b/data.bin"), "-d", out.string(),
                    "--journal", f.journal()});
  INFO(r.stderr_text);
  CHECK(r.exit_code == 2);
  CHECK(r.stderr_text.find("both be saved as") != std::string::npos);
  CHECK_FALSE(fs::exists(out / "data.bin"));
  CHECK_FALSE(fs::exists(out / "data.bin.part"));
  // Nothing was queued either: a later resume has nothing to do.
  auto resume = run_cli({"resume", "--journal", f.journal()});
  CHECK(resume.exit_code == 0);
  CHECK_FALSE(fs::exists(out / "data.bin"));
}

TEST_CASE("cli: empty, directory and impossible destinations fail at once", "[cli][destination]") {
  DestFixture f;
  auto empty = run_cli({"get", f.url(), "-o", "", "--journal", f.journal()});
  CHECK(empty.exit_code == 2);
  CHECK_FALSE(fs::exists(fs::current_path() / "data.bin"));

  const auto existing_dir = f.dir / "adir";
  fs::create_directories(existing_dir);
  auto dir = run_cli({"get", f.url(), "-o", existing_dir.string(), "--journal", f.journal()});
  INFO(dir.stderr_text);
  CHECK(dir.exit_code == 8);
  CHECK(dir.stderr_text.find("is a directory") != std::string::npos);
  CHECK_FALSE(fs::exists(existing_dir.string() + ".part"));
  CHECK(fs::is_empty(existing_dir));

  std::ofstream(f.dir / "afile") << "x";
  auto under_file = run_cli({"get", f.url(), "-o", (f.dir / "afile" / "x.bin").string(),
                             "--journal", f.journal()});
  INFO(under_file.stderr_text);
  CHECK(under_file.exit_code == 8);
  CHECK(under_file.stderr_text.find("not a directory") != std::string::npos);

  // And a good path still works, byte for byte.
  auto ok = run_cli({"get", f.url(), "-o", (f.dir / "good" / "data.bin").string(), "--journal",
                     f.journal()});
  INFO(ok.stderr_text);
  REQUIRE(ok.exit_code == 0);
  CHECK(sha256_file(f.dir / "good" / "data.bin") == f.sha);
}

TEST_CASE("cli: .part files no transfer owns are reported and removable", "[cli][destination]") {
  DestFixture f;
  const auto out = f.dir / "out";
  auto ok = run_cli({"get", f.url(), "-o", (out / "data.bin").string(), "--journal", f.journal()});
  REQUIRE(ok.exit_code == 0);
  std::ofstream(out / "stale.bin.part") << "left by a journal that was moved aside";
  auto resume = run_cli({"resume", "--journal", f.journal()});
  INFO(resume.stderr_text);
  CHECK(resume.exit_code == 0);
  CHECK(resume.stderr_text.find("stale.bin.part") != std::string::npos);

  auto parts = run_cli({"parts", "--journal", f.journal()});
  CHECK(parts.exit_code == 0);
  CHECK(fs::exists(out / "stale.bin.part"));  // listing never removes
  auto removed = run_cli({"parts", "--remove", "--journal", f.journal()});
  CHECK(removed.exit_code == 0);
  CHECK_FALSE(fs::exists(out / "stale.bin.part"));
  CHECK(sha256_file(out / "data.bin") == f.sha);
}
