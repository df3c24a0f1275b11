// PersistGroups on a real leveldb journal and the real file system: jobs that arrive while a
// group is on the pool leave together; each member's outcome is its own; what a group commits
// is exactly what its successful members built.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "store/leveldb_journal.h"
#include "tests/support/temp_dir.h"
#include "transfer/engine/blocking_pool.h"
#include "transfer/engine/persist_groups.h"

using namespace xfer;
using namespace xfer::engine;

namespace {

struct Rig {
  test::TempDir dir{"xfer-persist-groups"};
  boost::asio::io_context io;
  std::unique_ptr<store::Journal> journal;
  BlockingPool pool{io, 4};
  std::unique_ptr<PersistGroups> groups;

  explicit Rig(std::size_t in_flight) {
    store::JournalOptions options;
    options.directory = (dir / "journal").string();
    auto opened = store::LevelDbJournal::open(options);
    REQUIRE(opened);
    journal = std::move(*opened);
    groups = std::make_unique<PersistGroups>(io, pool, *journal, files::posix_file_system(),
                                             in_flight, 64);
  }
  ~Rig() {
    groups.reset();
    pool.join();
  }

  // Runs the loop until `settled` holds (bounded: 10 s).
  void run_until(const std::function<bool()>& settled) {
    auto guard = boost::asio::make_work_guard(io);
    for (int i = 0; i < 1000 && !settled(); ++i) io.run_one_for(std::chrono::milliseconds(10));
  }

  store::TransferRecord record(TransferId id) {
    store::TransferRecord r;
    r.id = id;
    r.direction = Direction::Download;
    r.url = "https://example.test/f" + std::to_string(id);
    r.local_path = (dir / "out" / ("f" + std::to_string(id))).string();
    r.state = TransferState::Completed;
    return r;
  }
};

}  // namespace

TEST_CASE("persist jobs submitted together leave in few groups, each with its own outcome",
          "[engine][persist]") {
  Rig rig(1);
  std::filesystem::create_directories(rig.dir / "out");
  constexpr int kJobs = 40;
  std::vector<std::optional<Result<void>>> outcome(kJobs);
  std::atomic<int> flushes_started{0};
  for (int i = 0; i < kJobs; ++i) {
    PersistItem item;
    const TransferId id = static_cast<TransferId>(i + 1);
    item.start_flush = [&flushes_started] { ++flushes_started; };
    item.build = [&rig, id, i](store::Batch& batch) -> Result<void> {
      if (i % 10 == 7) return fail(ErrorCategory::LocalIo, "this member's file work failed");
      batch.put_transfer(rig.record(id));
      return {};
    };
    item.directory = (rig.dir / "out").string();
    item.done = [&outcome, i](Result<void> r) { outcome[i] = std::move(r); };
    rig.groups->submit(std::move(item));
  }
  // The first job left alone (nothing was waiting); the other 39 waited for it and left as one
  // group (one slot in flight, at most 64 members).
  rig.run_until([&] { return std::all_of(outcome.begin(), outcome.end(), [](auto& o) { return o.has_value(); }); });
  CHECK(rig.groups->members_run() == kJobs);
  CHECK(rig.groups->groups_run() == 2);
  CHECK(flushes_started == kJobs);
  for (int i = 0; i < kJobs; ++i) {
    INFO(i);
    REQUIRE(outcome[i]);
    CHECK(outcome[i]->has_value() == (i % 10 != 7));
    auto stored = rig.journal->get_transfer(static_cast<TransferId>(i + 1));
    REQUIRE(stored);
    CHECK(stored->has_value() == (i % 10 != 7));  // failed members commit nothing
  }
}

TEST_CASE("a directory that cannot be flushed fails only the members that renamed into it",
          "[engine][persist]") {
  Rig rig(1);
  std::filesystem::create_directories(rig.dir / "good");
  std::vector<std::optional<Result<void>>> outcome(6);
  for (int i = 0; i < 6; ++i) {
    PersistItem item;
    const TransferId id = static_cast<TransferId>(i + 1);
    item.build = [&rig, id](store::Batch& batch) -> Result<void> {
      batch.put_transfer(rig.record(id));
      return {};
    };
    item.directory = (rig.dir / (i % 2 ? "missing" : "good")).string();
    item.done = [&outcome, i](Result<void> r) { outcome[i] = std::move(r); };
    rig.groups->submit(std::move(item));
  }
  rig.run_until([&] { return std::all_of(outcome.begin(), outcome.end(), [](auto& o) { return o.has_value(); }); });
  for (int i = 0; i < 6; ++i) {
    INFO(i);
    REQUIRE(outcome[i]);
    CHECK(outcome[i]->has_value() == (i % 2 == 0));
    auto stored = rig.journal->get_transfer(static_cast<TransferId>(i + 1));
    REQUIRE(stored);
    CHECK(stored->has_value() == (i % 2 == 0));
  }
}

TEST_CASE("groups share out waiting jobs between the free slots", "[engine][persist]") {
  Rig rig(4);
  std::atomic<int> built{0};
  int done = 0;
  for (int i = 0; i < 12; ++i) {
    PersistItem item;
    item.build = [&built](store::Batch&) -> Result<void> {
      ++built;
      return {};
    };
    item.done = [&done](Result<void> r) {
      CHECK(r);
      ++done;
    };
    rig.groups->submit(std::move(item));
  }
  rig.run_until([&] { return done == 12; });
  CHECK(done == 12);
  CHECK(built == 12);
  // Four slots: the first four jobs each left at once, the other eight waited and were split
  // between the slots as they came free, so no group ran more than a few of them.
  CHECK(rig.groups->groups_run() >= 5);
  CHECK(rig.groups->groups_run() <= 12);
}
