// Durability through the file-system seam: a simulated power loss (every unsynced byte of the
// .part files and of the journal dropped) never leaves a journaled offset beyond the synced
// bytes (invariant 1) and the download then completes byte-identical; a full disk pauses the
// transfer with a clear error and loses nothing journaled.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <thread>

#include "store/journal.h"
#include "store/leveldb_journal.h"
#include "tests/integration/engine_harness.h"
#include "tests/integration/fault_file_system.h"
#include "tests/support/fault_leveldb_env.h"
#include "tests/support/files.h"
#include "transfer/engine/default_transport.h"
#include "transfer/engine/engine_thread.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

struct DurabilityFixture {
  TempDir dir{"xfer-durable"};
  std::unique_ptr<TestServerProcess> server;
  fs::path source;
  fs::path destination;

  explicit DurabilityFixture(std::uint64_t size) {
    fs::create_directories(dir / "root");
    source = dir / "root" / "file.bin";
    write_pattern_file(source, size, 5);
    destination = dir / "out" / "file.bin";
    server = start_server(dir);
  }

  std::unique_ptr<Engine> open(FaultFileSystem* files, FaultLevelDbEnv* env) {
    detail::EngineDeps deps;
    deps.transport = engine::default_transport_factory();
    deps.file_system = files;
    deps.journal = [env](const store::JournalOptions& options) {
      return store::LevelDbJournal::open(options, env);
    };
    auto config = test_engine_config(server->cert());
    config.checkpoint_bytes = 128 * 1024;
    config.checkpoint_interval = std::chrono::milliseconds(50);
    auto engine = detail::open_engine((dir / "journal").string(), config, deps);
    REQUIRE(engine);
    return std::move(*engine);
  }

  DownloadSpec spec(const std::string& query = "") const {
    DownloadSpec s;
    s.url = server->http_origin() + "/files/file.bin" + query;
    s.destination = destination.string();
    return s;
  }
};

}  // namespace

TEST_CASE("power loss drops unsynced bytes - journaled offsets stay within synced data",
          "[engine][durability]") {
  std::mt19937_64 rng(Catch::rngSeed());
  for (int round = 0; round < 5; ++round) {
    DurabilityFixture f(3 << 20);
    FaultFileSystem files;
    FaultLevelDbEnv env;
    const auto cut_ms = std::uniform_int_distribution<int>(50, 700)(rng);
    CAPTURE(round, cut_ms);
    {
      auto engine = f.open(&files, &env);
      REQUIRE(engine->enqueue(f.spec("?fault=throttle=4000000")));
      std::this_thread::sleep_for(std::chrono::milliseconds(cut_ms));
      env.cut_power();
      files.cut_power();
      (void)engine->shutdown();
    }
    REQUIRE(env.restore_power().ok());
    files.restore_power();
    CHECK_FALSE(fs::exists(f.destination));  // not complete at the cut (throttled to ~0.8 s)

    // Invariant 1, checked on what survived.
    {
      store::JournalOptions options;
      options.directory = (f.dir / "journal").string();
      auto journal = store::LevelDbJournal::open(options, &env);
      REQUIRE(journal);
      const fs::path part = f.destination.string() + ".part";
      const auto on_disk = fs::exists(part) ? fs::file_size(part) : 0;
      auto scanned = (*journal)->scan_unfinished([&](const store::TransferRecord& r) {
        auto segments = (*journal)->segments(r.id);
        REQUIRE(segments);
        for (const auto& s : *segments) {
          INFO("offset " << s.offset << " part " << on_disk);
          CHECK(s.offset <= on_disk);
        }
        return true;
      });
      REQUIRE(scanned);
    }

    // Reopen without faults: it resumes and completes byte-identical.
    auto engine = f.open(nullptr, &env);
    auto ids = engine->unfinished_ids();
    if (ids.empty()) continue;  // cut before the enqueue reached the disk
    REQUIRE(ids.size() == 1);
    auto result = run_until_terminal(*engine, ids[0], std::chrono::seconds(60));
    REQUIRE(result.terminal);
    INFO(result.terminal->message);
    REQUIRE(result.terminal->kind == EventKind::Completed);
    CHECK(sha256_file(f.destination) == sha256_file(f.source));
  }
}

TEST_CASE("no room on the disk: refused early, nothing at the destination",
          "[engine][durability]") {
  DurabilityFixture f(2 << 20);
  FaultFileSystem files;
  files.set_space_budget(1 << 20);
  auto engine = f.open(&files, nullptr);
  auto id = engine->enqueue(f.spec());
  REQUIRE(id);
  std::optional<Event> paused;
  for (int i = 0; i < 200 && !paused; ++i) {
    auto e = engine->next_event(std::chrono::milliseconds(50));
    if (e && e->id == *id && e->kind == EventKind::StateChanged && e->state == TransferState::Paused)
      paused = e;
  }
  REQUIRE(paused);
  CHECK(paused->message.find("disk-full") != std::string::npos);
  REQUIRE(paused->error.has_value());
  CHECK(paused->error->category() == xfer::ErrorCategory::DiskFull);
  auto st = engine->status(*id);
  REQUIRE(st);
  CHECK(st->state == TransferState::Paused);
  CHECK(st->durable_bytes == 0);
  CHECK_FALSE(fs::exists(f.destination));
}

TEST_CASE("ENOSPC mid-download pauses with a clear error, then resumes after space is freed",
          "[engine][durability]") {
  DurabilityFixture f(3 << 20);
  FaultFileSystem files;
  files.set_space_budget(1'500'000, /*report_room=*/true);
  auto engine = f.open(&files, nullptr);
  auto id = engine->enqueue(f.spec());
  REQUIRE(id);
  std::optional<Event> paused;
  for (int i = 0; i < 200 && !paused; ++i) {
    auto e = engine->next_event(std::chrono::milliseconds(50));
    if (e && e->id == *id && e->kind == EventKind::StateChanged && e->state == TransferState::Paused)
      paused = e;
  }
  REQUIRE(paused);
  INFO(paused->message);
  CHECK(paused->message.find("disk-full") != std::string::npos);
  auto st = engine->status(*id);
  REQUIRE(st);
  CHECK(st->state == TransferState::Paused);
  CHECK(st->durable_bytes <= 1'500'000);
  REQUIRE(st->last_error.has_value());
  CHECK(st->last_error->category() == xfer::ErrorCategory::DiskFull);
  CHECK(st->last_error->message().find("No space left") != std::string::npos);
  CHECK_FALSE(fs::exists(f.destination));

  files.set_space_budget(std::nullopt);
  REQUIRE(engine->resume(*id));
  auto result = run_until_terminal(*engine, *id);
  REQUIRE(result.terminal);
  REQUIRE(result.terminal->kind == EventKind::Completed);
  CHECK(sha256_file(f.destination) == sha256_file(f.source));
}
