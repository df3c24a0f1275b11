// Power loss: SIGKILL cannot reveal a missing fsync (the page cache survives the process), so
// the same workload runs in-process on a FaultLevelDbEnv; at a random moment the power is cut,
// every unsynced byte and every file not yet in a synced directory is dropped, and the journal
// is reopened and checked: no synced (acknowledged) write may be lost.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <catch2/catch.hpp>

#include "store/journal.h"
#include "store/leveldb_journal.h"
#include "tests/store/crash_workload.h"
#include "tests/store/sample_records.h"
#include "tests/support/fault_leveldb_env.h"
#include "tests/support/temp_dir.h"

using namespace xfer;

namespace {

std::uint64_t test_seed() {
  if (const char* env = std::getenv("XFER_TEST_SEED")) return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

std::unique_ptr<store::Journal> open_on(test::FaultLevelDbEnv& env, const std::filesystem::path& dir) {
  store::JournalOptions options;
  options.directory = dir.string();
  auto journal = store::LevelDbJournal::open(options, &env);
  if (!journal) FAIL("open: " << journal.error().describe());
  return std::move(*journal);
}

void power_loss_loop(int iterations) {
  const std::uint64_t seed = test_seed();
  std::printf("journal power-loss loop: %d iterations, seed %llu (replay with XFER_TEST_SEED=%llu)\n", iterations,
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::unique_ptr<test::TempDir> dir;
  std::unique_ptr<test::FaultLevelDbEnv> env;
  std::unique_ptr<test::AckLog> acks;
  std::uint64_t dropped_bytes = 0;
  std::size_t dropped_files = 0;
  std::size_t total_acks = 0;
  for (int i = 0; i < iterations; ++i) {
    if (i % 10 == 0) {
      env.reset();
      dir = std::make_unique<test::TempDir>("journal-power");
      env = std::make_unique<test::FaultLevelDbEnv>();
      acks = std::make_unique<test::AckLog>();
    }
    INFO("iteration " << i);
    const std::size_t before = acks->count();
    {
      auto journal = open_on(*env, dir->path());
      std::mutex ack_mu;
      std::atomic<bool> stop{false};
      std::thread workload([&] {
        test::run_crash_workload(*journal, 3, rng(), stop, [&](const std::string& line) {
          std::lock_guard lock(ack_mu);
          acks->add_line(line);
        });
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(2 + rng() % 120));
      env->cut_power();
      stop = true;
      workload.join();
    }  // the journal closes with the power off: nothing it writes now reaches the "disk"
    const leveldb::Status restored = env->restore_power();
    REQUIRE(restored.ok());
    dropped_bytes += env->dropped_bytes();
    dropped_files += env->dropped_files();
    auto journal = open_on(*env, dir->path());
    const auto problems = test::verify_after_crash(*journal, *acks);
    for (const auto& p : problems) UNSCOPED_INFO(p);
    REQUIRE(problems.empty());
    total_acks += acks->count() - before;
  }
  std::printf("journal power-loss loop: %zu acknowledged writes checked; dropped %llu unsynced bytes, %zu files\n",
              total_acks, static_cast<unsigned long long>(dropped_bytes), dropped_files);
  CHECK(total_acks > 0);
}

}  // namespace

TEST_CASE("the fault env really drops unsynced writes", "[store][power]") {
  test::TempDir dir("journal-power");
  test::FaultLevelDbEnv env;
  {
    auto journal = open_on(env, dir.path());
    store::Batch synced;
    synced.put_transfer(test::sample_transfer(1));
    REQUIRE(journal->commit(std::move(synced), store::Durability::Synced));
    store::Batch buffered;
    buffered.put_transfer(test::sample_transfer(2));
    REQUIRE(journal->commit(std::move(buffered), store::Durability::Buffered));
    CHECK(env.unsynced_bytes() > 0);
    env.cut_power();
    store::Batch late;
    late.put_transfer(test::sample_transfer(3));
    auto r = journal->commit(std::move(late), store::Durability::Synced);
    REQUIRE_FALSE(r);  // a dead disk acknowledges nothing
  }
  REQUIRE(env.restore_power().ok());
  CHECK(env.dropped_bytes() > 0);
  auto journal = open_on(env, dir.path());
  auto t1 = journal->get_transfer(1);
  auto t2 = journal->get_transfer(2);
  auto t3 = journal->get_transfer(3);
  REQUIRE(t1);
  REQUIRE(t2);
  REQUIRE(t3);
  CHECK(t1->has_value());
  CHECK_FALSE(t2->has_value());
  CHECK_FALSE(t3->has_value());
}

TEST_CASE("no synced write is lost to a power failure", "[store][power]") { power_loss_loop(30); }

TEST_CASE("no synced write is lost to a power failure, long run", "[store][power][torture]") { power_loss_loop(500); }
