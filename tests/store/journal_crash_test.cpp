// Crash consistency: a child process runs the journal workload and is SIGKILLed at a random
// moment; the parent reopens the journal and checks it against every acknowledgement the
// child managed to report (tests/store/crash_workload.h lists the invariants).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>

#include <catch2/catch.hpp>
#include <sys/wait.h>

#include "store/journal.h"
#include "tests/store/child_process.h"
#include "tests/store/crash_workload.h"
#include "tests/support/temp_dir.h"

using namespace xfer;

namespace {

std::uint64_t test_seed() {
  if (const char* env = std::getenv("XFER_TEST_SEED")) return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

void crash_loop(int iterations) {
  const std::uint64_t seed = test_seed();
  std::printf("journal crash loop: %d iterations, seed %llu (replay with XFER_TEST_SEED=%llu)\n", iterations,
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::unique_ptr<test::TempDir> dir;
  std::unique_ptr<test::AckLog> acks;
  std::size_t total_acks = 0;
  int killed_before_first_ack = 0;
  for (int i = 0; i < iterations; ++i) {
    // The same journal survives ten crashes in a row, then a fresh one starts.
    if (i % 10 == 0) {
      dir = std::make_unique<test::TempDir>("journal-crash");
      acks = std::make_unique<test::AckLog>();
    }
    INFO("iteration " << i);
    const auto kill_after = std::chrono::milliseconds(5 + rng() % 250);
    const std::uint64_t child_seed = rng();
    test::ChildProcess child({XFER_JOURNAL_CRASH_WRITER, "write", dir->path().string(), std::to_string(child_seed), "3"});
    const auto deadline = std::chrono::steady_clock::now() + kill_after;
    const std::size_t before = acks->count();
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      acks->feed(child.read_some(std::max(left, std::chrono::milliseconds(1))));
      if (child.exited(&status)) break;
    }
    const bool died_by_itself = child.exited(&status);
    acks->feed(child.kill_and_drain());
    if (died_by_itself) FAIL("the writer exited by itself with status " << status << " (see its stderr)");
    if (acks->count() == before) ++killed_before_first_ack;

    store::JournalOptions options;
    options.directory = dir->path().string();
    auto journal = store::Journal::open(options);
    if (!journal) FAIL("reopen after SIGKILL: " << journal.error().describe());
    const auto problems = test::verify_after_crash(**journal, *acks);
    for (const auto& p : problems) UNSCOPED_INFO(p);
    REQUIRE(problems.empty());
    total_acks += acks->count() - before;
  }
  std::printf("journal crash loop: %zu acknowledged writes checked, %d kills before the first ack\n", total_acks,
              killed_before_first_ack);
  // If no child ever got to acknowledge anything the loop tested nothing.
  CHECK(total_acks > 0);
}

}  // namespace

TEST_CASE("journal survives SIGKILL at random moments", "[store][crash]") { crash_loop(50); }

TEST_CASE("journal survives SIGKILL at random moments, long run", "[store][crash][torture]") { crash_loop(1000); }
