// Part files and destinations that someone else chose: symlinks, FIFOs, devices, hard links,
// directories, a part swapped while it was written. Nothing here may write through a link or
// replace anything but a regular file.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/files.h"
#include "tests/support/temp_dir.h"
#include "transfer/files/destination_check.h"
#include "transfer/files/file_system.h"
#include "transfer/files/part_file.h"

using namespace xfer;
namespace fs = std::filesystem;

namespace {
void write_text(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
bool refused(const Result<void>& r, const std::string& words) {
  return !r && r.error().message().find(words) != std::string::npos;
}
}  // namespace

TEST_CASE("a part file is never opened through a symlink, FIFO or foreign link", "[files]") {
  test::TempDir dir;
  auto& files = files::posix_file_system();
  const fs::path victim = dir / "victim.txt";
  write_text(victim, "precious");

  fs::create_symlink(victim, dir / "a.part");
  auto via_link = files.open_part((dir / "a.part").string());
  REQUIRE_FALSE(via_link);
  CHECK(via_link.error().category() == ErrorCategory::LocalIo);
  CHECK(via_link.error().message().find("symbolic link") != std::string::npos);
  CHECK(read_text(victim) == "precious");

  REQUIRE(::mkfifo((dir / "b.part").c_str(), 0600) == 0);
  auto fifo = files.open_part((dir / "b.part").string());  // must not block
  REQUIRE_FALSE(fifo);
  CHECK(fifo.error().message().find("FIFO") != std::string::npos);

  fs::create_hard_link(victim, dir / "c.part");
  auto linked = files.open_part((dir / "c.part").string());
  REQUIRE_FALSE(linked);
  CHECK(linked.error().message().find("hard links") != std::string::npos);

  fs::create_directory(dir / "d.part");
  CHECK_FALSE(files.open_part((dir / "d.part").string()));

  // Absent: created; present, regular and ours: reused.
  auto fresh = files.open_part((dir / "e.part").string());
  REQUIRE(fresh);
  const std::vector<std::uint8_t> bytes{1, 2, 3};
  REQUIRE((*fresh)->write_at(0, bytes));
  fresh->reset();
  auto again = files.open_part((dir / "e.part").string());
  REQUIRE(again);
  CHECK((*again)->size().value() == 3);
  CHECK(read_text(victim) == "precious");
}

TEST_CASE("destinations that are not regular files are refused before any byte moves",
          "[files]") {
  test::TempDir dir;
  auto& files = files::posix_file_system();
  CHECK(files::check_destination(files, (dir / "new.bin").string()));
  CHECK(files::check_destination(files, (dir / "deep" / "er" / "new.bin").string()));
  write_text(dir / "plain.bin", "old");
  CHECK(files::check_destination(files, (dir / "plain.bin").string()));
  fs::create_symlink(dir / "plain.bin", dir / "link.bin");
  CHECK(files::check_destination(files, (dir / "link.bin").string()));

  CHECK_FALSE(files::check_destination(files, ""));
  CHECK(refused(files::check_destination(files, (dir / "sub").string() + "/"), "directory"));
  fs::create_directory(dir / "adir");
  CHECK(refused(files::check_destination(files, (dir / "adir").string()), "is a directory"));
  fs::create_directory_symlink(dir / "adir", dir / "dirlink");
  CHECK(refused(files::check_destination(files, (dir / "dirlink").string()), "directory"));
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  CHECK(refused(files::check_destination(files, (dir / "fifo").string()), "FIFO"));
  CHECK(refused(files::check_destination(files, "/dev/null"), "character device"));
  CHECK(refused(files::check_destination(files, (dir / "plain.bin" / "x").string()),
                "not a directory"));
  fs::create_symlink(dir / "nowhere", dir / "out.bin.part");
  CHECK(refused(files::check_destination(files, (dir / "out.bin").string()), "symbolic link"));
  if (::geteuid() != 0) {  // root may write anywhere
    fs::create_directory(dir / "ro");
    fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    CHECK(refused(files::check_destination(files, (dir / "ro" / "x").string()), "permission"));
  }
}

TEST_CASE("finalize renames only the part it wrote, and only over a regular file", "[files]") {
  test::TempDir dir;
  auto& files = files::posix_file_system();
  const std::vector<std::uint8_t> bytes(1000, 7);
  files::PrefixDigest digest;

  SECTION("a part swapped under its name is not renamed into place") {
    auto part = files.open_part((dir / "out.part").string());
    REQUIRE(part);
    REQUIRE((*part)->write_at(0, bytes));
    write_text(dir / "evil", "planted");
    fs::rename(dir / "evil", dir / "out.part");
    auto r = files::finalize_part(files, **part, (dir / "out.part").string(),
                                  (dir / "out").string(), {}, digest);
    CHECK(refused(r, "was replaced"));
    CHECK_FALSE(fs::exists(dir / "out"));
  }
  SECTION("a destination that became a FIFO is not replaced") {
    auto part = files.open_part((dir / "out.part").string());
    REQUIRE(part);
    REQUIRE((*part)->write_at(0, bytes));
    REQUIRE(::mkfifo((dir / "out").c_str(), 0600) == 0);
    auto r = files::finalize_part(files, **part, (dir / "out.part").string(),
                                  (dir / "out").string(), {}, digest);
    CHECK(refused(r, "FIFO"));
    CHECK(fs::is_fifo(dir / "out"));
  }
  SECTION("a character device is not replaced (root only: mknod)") {
    if (::geteuid() != 0) return;
    REQUIRE(::mknod((dir / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    auto part = files.open_part((dir / "null.part").string());
    REQUIRE(part);
    REQUIRE((*part)->write_at(0, bytes));
    auto r = files::finalize_part(files, **part, (dir / "null.part").string(),
                                  (dir / "null").string(), {}, digest);
    CHECK(refused(r, "character device"));
    CHECK(fs::is_character_file(dir / "null"));
  }
}
