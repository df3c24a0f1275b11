// A journal on a full or read-only filesystem fails with a clear error (injected through the
// FaultLevelDbEnv, since this machine cannot be made to run out of space on demand).
#include <fstream>

#include <catch2/catch.hpp>

#include "store/journal.h"
#include "store/leveldb_journal.h"
#include "tests/store/sample_records.h"
#include "tests/support/fault_leveldb_env.h"
#include "tests/support/temp_dir.h"

using namespace xfer;
using namespace xfer::store;

namespace {

Result<std::unique_ptr<Journal>> open_on(test::FaultLevelDbEnv* env, const std::filesystem::path& dir) {
  JournalOptions options;
  options.directory = dir.string();
  return LevelDbJournal::open(options, env);
}

Result<void> put(Journal& journal, TransferId id) {
  Batch b;
  b.put_transfer(test::sample_transfer(id));
  return journal.commit(std::move(b), Durability::Synced);
}

}  // namespace

TEST_CASE("a full disk is reported as DiskFull naming the journal", "[store][failure]") {
  test::TempDir dir("journal-fail");
  test::FaultLevelDbEnv env;
  {
    auto journal = open_on(&env, dir.path());
    REQUIRE(journal);
    REQUIRE(put(**journal, 1));
    env.set_disk_full(true);
    auto r = put(**journal, 2);
    REQUIRE_FALSE(r);
    CHECK(r.error().category() == ErrorCategory::DiskFull);
    CHECK_THAT(r.error().message(), Catch::Contains(dir.path().string()) && Catch::Contains("full"));
    auto sync = (*journal)->checkpoint(test::sample_segment(1, 0));
    REQUIRE_FALSE(sync);
    CHECK(sync.error().category() == ErrorCategory::DiskFull);
    env.set_disk_full(false);
  }
  // After space comes back a reopened journal has everything acknowledged before and
  // nothing that failed.
  auto journal = open_on(&env, dir.path());
  REQUIRE(journal);
  auto t1 = (*journal)->get_transfer(1);
  REQUIRE(t1);
  CHECK(t1->has_value());
  auto t2 = (*journal)->get_transfer(2);
  REQUIRE(t2);
  CHECK_FALSE(t2->has_value());
  REQUIRE(put(**journal, 4));
}

TEST_CASE("after a failed write the same journal writes again once the disk recovers",
          "[store][failure]") {
  test::TempDir dir("journal-recover");
  test::FaultLevelDbEnv env;
  auto journal = open_on(&env, dir.path());
  REQUIRE(journal);
  REQUIRE(put(**journal, 1));
  env.set_sync_fails(true);  // an fsync error: the one leveldb never forgets by itself
  REQUIRE_FALSE(put(**journal, 2));
  REQUIRE_FALSE(put(**journal, 3));
  env.set_sync_fails(false);
  // No caller-side reopen: leveldb alone would refuse every write from now on.
  REQUIRE(put(**journal, 4));
  const auto id = (*journal)->next_transfer_id();
  REQUIRE(id);
  CHECK(*id > 4);
  auto t1 = (*journal)->get_transfer(1);
  REQUIRE(t1);
  CHECK(t1->has_value());
  auto t4 = (*journal)->get_transfer(4);
  REQUIRE(t4);
  CHECK(t4->has_value());
  journal->reset();
  auto again = open_on(&env, dir.path());
  REQUIRE(again);
  auto t4_after = (*again)->get_transfer(4);
  REQUIRE(t4_after);
  CHECK(t4_after->has_value());
}

TEST_CASE("a read-only filesystem is reported as such", "[store][failure]") {
  test::TempDir dir("journal-fail");
  test::FaultLevelDbEnv env;
  SECTION("at open") {
    { REQUIRE(open_on(&env, dir.path())); }
    env.set_read_only(true);
    auto journal = open_on(&env, dir.path());
    REQUIRE_FALSE(journal);
    CHECK(journal.error().category() == ErrorCategory::LocalIo);
    CHECK_THAT(journal.error().message(), Catch::Contains("read-only") && Catch::Contains(dir.path().string()));
  }
  SECTION("while writing") {
    auto journal = open_on(&env, dir.path());
    REQUIRE(journal);
    env.set_read_only(true);
    auto r = put(**journal, 1);
    REQUIRE_FALSE(r);
    CHECK(r.error().category() == ErrorCategory::LocalIo);
    CHECK_THAT(r.error().message(), Catch::Contains("read-only"));
  }
}

TEST_CASE("a journal path that is a file gives a clear error", "[store][failure]") {
  test::TempDir dir("journal-fail");
  const auto file = dir.path() / "not-a-dir";
  std::ofstream(file) << "x";
  auto journal = open_on(nullptr, file);
  REQUIRE_FALSE(journal);
  CHECK(journal.error().category() == ErrorCategory::LocalIo);
  CHECK_THAT(journal.error().message(), Catch::Contains(file.string()));
}
