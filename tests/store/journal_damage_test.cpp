// Damage to the journal's files is refused at open with a Journal error, never opened as if
// nothing were missing (docs/journal.md, "Damage"); what a crash leaves is not damage.
// Each case first runs the crash workload in a child process and SIGKILLs it (no clean
// close, as in the reproduced `xfer resume` bug), then damages one file the way a disk, a
// filesystem or a person could, then opens the journal.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "store/journal.h"
#include "tests/store/child_process.h"
#include "tests/store/crash_workload.h"
#include "tests/support/temp_dir.h"

using namespace xfer;
namespace fs = std::filesystem;

namespace {

std::uint64_t test_seed() {
  if (const char* env = std::getenv("XFER_TEST_SEED")) return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::string random_bytes(std::size_t n, std::mt19937_64& rng) {
  std::string bytes(n, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

// The highest-numbered leveldb file with this suffix ("000012.log").
fs::path newest(const fs::path& dir, const std::string& suffix) {
  fs::path best;
  std::uint64_t best_number = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
    const std::string digits = name.substr(0, name.size() - suffix.size());
    if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::uint64_t number = std::stoull(digits);
    if (best.empty() || number > best_number) {
      best = entry.path();
      best_number = number;
    }
  }
  if (best.empty()) FAIL("no *" << suffix << " file in " << dir);
  return best;
}

fs::path manifest_of(const fs::path& dir) {
  std::string current = read_file(dir / "CURRENT");
  REQUIRE(!current.empty());
  current.pop_back();
  return dir / current;
}

// Runs the crash workload in a child until it has acknowledged `wanted` synced commits,
// then SIGKILLs it.
void interrupted_workload(const fs::path& dir, test::AckLog& acks, std::size_t wanted, std::uint64_t seed) {
  const std::size_t before = acks.count();
  test::ChildProcess child({XFER_JOURNAL_CRASH_WRITER, "write", dir.string(), std::to_string(seed), "3"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (acks.count() - before < wanted && std::chrono::steady_clock::now() < deadline) {
    acks.feed(child.read_some(std::chrono::milliseconds(20)));
    int status = 0;
    if (child.exited(&status)) FAIL("the writer exited by itself with status " << status);
  }
  acks.feed(child.kill_and_drain());
  REQUIRE(acks.count() - before >= wanted);
}

Result<std::unique_ptr<store::Journal>> open_at(const fs::path& dir) {
  store::JournalOptions options;
  options.directory = dir.string();
  return store::Journal::open(options);
}

// The journal is refused, and stays refused: a failed open must not leave a journal that the
// next open accepts (leveldb may have rewritten its files while recovering).
std::string expect_refused(const fs::path& dir) {
  auto first = open_at(dir);
  REQUIRE_FALSE(first);
  INFO(first.error().describe());
  CHECK(first.error().category() == ErrorCategory::Journal);
  CHECK_THAT(first.error().message(),
             Catch::Contains("journal " + dir.string() + " is damaged") && Catch::Contains("move it aside"));
  auto second = open_at(dir);
  REQUIRE_FALSE(second);
  CHECK(second.error().category() == ErrorCategory::Journal);
  CHECK_THAT(second.error().message(), Catch::Contains("is damaged"));
  return first.error().message();
}

void expect_intact(const fs::path& dir, const test::AckLog& acks) {
  auto journal = open_at(dir);
  if (!journal) FAIL("open: " << journal.error().describe());
  const auto problems = test::verify_after_crash(**journal, acks);
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
}

void overwrite(const fs::path& path, std::size_t offset, const std::string& bytes) {
  std::string content = read_file(path);
  REQUIRE(offset + bytes.size() <= content.size());
  content.replace(offset, bytes.size(), bytes);
  write_file(path, content);
}

void flip_byte(const fs::path& path, std::size_t offset) {
  std::string content = read_file(path);
  REQUIRE(offset < content.size());
  content[offset] = static_cast<char>(content[offset] ^ 0x5a);
  write_file(path, content);
}

}  // namespace

TEST_CASE("damage to the write-ahead log after an interrupted workload is refused at open", "[store][damage]") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed << " (replay with XFER_TEST_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  // A log of one 32 KiB block and one of several: leveldb reads a garbage first block of a
  // short log as an empty log, and a long one as a corrupt one.
  const std::size_t wanted = GENERATE(as<std::size_t>{}, 20, 400);
  INFO("acknowledged commits before the kill: " << wanted);
  test::TempDir dir("journal-damage");
  test::AckLog acks;
  interrupted_workload(dir.path(), acks, wanted, rng());
  const fs::path log = newest(dir.path(), ".log");
  const std::size_t size = fs::file_size(log);
  INFO("log " << log << ", " << size << " bytes");
  REQUIRE(size > 1024);

  SECTION("replaced by random bytes of the same size") {
    write_file(log, random_bytes(size, rng));
    expect_refused(dir.path());
  }
  SECTION("its first 64 bytes overwritten with random bytes") {
    overwrite(log, 0, random_bytes(64, rng));
    expect_refused(dir.path());
  }
  SECTION("its first record header zeroed") {
    overwrite(log, 0, std::string(7, '\0'));
    expect_refused(dir.path());
  }
  SECTION("its first header claiming a record longer than the file (reads as a torn write)") {
    // What leveldb takes for the end of the log: the records behind it would vanish. The
    // audit cannot tell this from a torn write, the watermark can; the log is kept.
    // (In a log of several blocks the record fits its full first block, and its checksum fails.)
    const std::size_t length = 32768 - 7;
    overwrite(log, 4, std::string{static_cast<char>(length & 0xff), static_cast<char>(length >> 8), 1});
    const std::string damaged = read_file(log);
    const std::string message = expect_refused(dir.path());
    if (size < 32768) {
      CHECK_THAT(message, Catch::Contains("kept as"));
      const fs::path kept = dir.path() / "torn-log" / log.filename();
      REQUIRE(fs::exists(kept));
      CHECK(read_file(kept) == damaged);
    }
  }
  SECTION("a byte in the middle flipped") {
    std::size_t at = size / 2;
    if (at % 32768 > 32768 - 7) at -= 16;  // not in the unchecked padding at the end of a block
    const std::string before = read_file(log);
    flip_byte(log, at);
    const std::string damaged = read_file(log);
    expect_refused(dir.path());
    // Refused before leveldb recovered anything: the damaged log is still there, unchanged.
    CHECK(read_file(log) == damaged);
  }
  SECTION("cut to half its length") {
    fs::resize_file(log, size / 2);
    expect_refused(dir.path());
  }
  SECTION("emptied") {
    fs::resize_file(log, 0);
    expect_refused(dir.path());
  }
  SECTION("removed") {
    fs::remove(log);
    expect_refused(dir.path());
  }
}

TEST_CASE("damage to leveldb's MANIFEST, CURRENT or a table is refused at open", "[store][damage]") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed << " (replay with XFER_TEST_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  test::TempDir dir("journal-damage");
  test::AckLog acks;
  interrupted_workload(dir.path(), acks, 300, rng());
  // Opening recovers the log into a table and writes a new MANIFEST; then a second session.
  expect_intact(dir.path(), acks);
  interrupted_workload(dir.path(), acks, 50, rng());
  const fs::path manifest = manifest_of(dir.path());
  const fs::path table = newest(dir.path(), ".ldb");
  INFO("manifest " << manifest << ", table " << table);

  SECTION("MANIFEST: a byte in the middle flipped") {
    flip_byte(manifest, fs::file_size(manifest) / 2);
    expect_refused(dir.path());
  }
  SECTION("MANIFEST: its first bytes overwritten") {
    overwrite(manifest, 0, random_bytes(16, rng));
    expect_refused(dir.path());
  }
  SECTION("MANIFEST: cut to half its length") {
    fs::resize_file(manifest, fs::file_size(manifest) / 2);
    expect_refused(dir.path());
  }
  SECTION("MANIFEST: removed") {
    fs::remove(manifest);
    expect_refused(dir.path());
  }
  SECTION("CURRENT: garbage") {
    write_file(dir.path() / "CURRENT", random_bytes(20, rng));
    expect_refused(dir.path());
  }
  SECTION("CURRENT: names a MANIFEST that does not exist") {
    write_file(dir.path() / "CURRENT", "MANIFEST-999999\n");
    expect_refused(dir.path());
  }
  SECTION("CURRENT: removed") {
    // leveldb would create an empty database and delete the old files.
    fs::remove(dir.path() / "CURRENT");
    const std::string message = expect_refused(dir.path());
    CHECK_THAT(message, Catch::Contains("CURRENT"));
    CHECK(fs::exists(table));
  }
  SECTION("a table: a byte in the middle flipped") {
    flip_byte(table, fs::file_size(table) / 3);
    expect_refused(dir.path());
  }
  SECTION("a table damaged behind the check's back (mtime restored): the read that meets it fails") {
    // The open skips tables it read before and that look unchanged (docs/journal.md); bit rot
    // is then found by the first read of the damaged block, never passed over.
    const auto mtime = fs::last_write_time(table);
    flip_byte(table, fs::file_size(table) / 3);
    fs::last_write_time(table, mtime);
    auto journal = open_at(dir.path());
    if (journal) {
      const auto problems = test::verify_after_crash(**journal, acks);
      REQUIRE_FALSE(problems.empty());
      CHECK_THAT(problems.front(), Catch::Contains("is damaged"));
    } else {
      CHECK_THAT(journal.error().message(), Catch::Contains("is damaged"));
    }
  }
  SECTION("a table: its last bytes (footer) overwritten") {
    overwrite(table, fs::file_size(table) - 16, random_bytes(16, rng));
    expect_refused(dir.path());
  }
  SECTION("a table: cut short") {
    fs::resize_file(table, fs::file_size(table) / 2);
    expect_refused(dir.path());
  }
  SECTION("a table: removed") {
    fs::remove(table);
    expect_refused(dir.path());
  }
}

TEST_CASE("the watermark file: damage is refused, a missing one is recreated", "[store][damage]") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  test::TempDir dir("journal-damage");
  test::AckLog acks;
  interrupted_workload(dir.path(), acks, 30, rng());
  const fs::path watermark = dir.path() / "xfer.watermark";
  REQUIRE(fs::file_size(watermark) == 1024);

  SECTION("both copies damaged") {
    overwrite(watermark, 0, random_bytes(20, rng));
    overwrite(watermark, 512, random_bytes(20, rng));
    const std::string message = expect_refused(dir.path());
    CHECK_THAT(message, Catch::Contains("xfer.watermark"));
  }
  SECTION("one copy torn: the other one is used") {
    overwrite(watermark, 512, random_bytes(20, rng));
    expect_intact(dir.path(), acks);
  }
  SECTION("removed: recreated from the database, and checked from then on") {
    fs::remove(watermark);
    expect_intact(dir.path(), acks);
    REQUIRE(fs::exists(watermark));
    interrupted_workload(dir.path(), acks, 30, rng());
    write_file(newest(dir.path(), ".log"), random_bytes(fs::file_size(newest(dir.path(), ".log")), rng));
    expect_refused(dir.path());
  }
}

TEST_CASE("what a crash leaves at the end of the log is not damage", "[store][damage]") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  test::TempDir dir("journal-damage");
  test::AckLog acks;
  interrupted_workload(dir.path(), acks, 30, rng());
  const fs::path log = newest(dir.path(), ".log");
  std::string content = read_file(log);

  SECTION("a torn record header") { content += std::string("\x12\x34\x56", 3); }
  SECTION("a torn record: its header promises more than the file holds") {
    content += std::string("\x01\x02\x03\x04\xe8\x03\x01", 7) + random_bytes(100, rng);
  }
  SECTION("zeros: space the filesystem allocated before the power went") { content += std::string(10000, '\0'); }
  write_file(log, content);
  expect_intact(dir.path(), acks);
  // The link kept while leveldb recovered the torn log is gone once the checks passed.
  CHECK_FALSE(fs::exists(dir.path() / "torn-log"));
}

TEST_CASE("a journal written before the watermark existed opens and gets one", "[store][damage]") {
  test::TempDir dir("journal-damage");
  test::AckLog acks;
  interrupted_workload(dir.path(), acks, 20, 7);
  // Without the file, nothing says what was durable: the journal opens on what it has.
  fs::remove(dir.path() / "xfer.watermark");
  expect_intact(dir.path(), acks);
  CHECK(fs::exists(dir.path() / "xfer.watermark"));
}
