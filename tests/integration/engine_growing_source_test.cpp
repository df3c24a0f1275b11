// Uploads of a growing source (UploadSpec::source_grows) through the Engine API against the real
// test server: bytes are sent and acknowledged before the source ends (appends with the
// completion field saying "not complete", no Upload-Length), the end completes the upload (with
// the last bytes, or an empty append when all were sent), at every interop version's spelling;
// an engine shut down mid-growth continues on the same resource; bad announcements are refused.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "tests/integration/engine_harness.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

// Appends bytes [from, to) of `full` to `grown`, synced enough for the engine (same machine).
void grow(const fs::path& full, const fs::path& grown, std::uint64_t from, std::uint64_t to) {
  std::ifstream in(full, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(from));
  std::vector<char> buf(to - from);
  in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  REQUIRE(in.gcount() == static_cast<std::streamsize>(buf.size()));
  std::ofstream out(grown, std::ios::binary | std::ios::app);
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  out.close();
  REQUIRE(out.good());
}

// Waits until the server acknowledged at least `bytes` (durable_bytes), bounded.
TransferStatus wait_acknowledged(Engine& engine, TransferId id, std::uint64_t bytes) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    auto st = engine.status(id);
    REQUIRE(st);
    if (st->durable_bytes >= bytes) return *st;
    INFO("state " << to_string(st->state) << ", acknowledged " << st->durable_bytes);
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string only_upload(const TempDir& dir) {
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(dir / "root" / "uploads")) found.push_back(e.path());
  REQUIRE(found.size() == 1);
  return found.front().string();
}

struct GrowingFixture {
  TempDir dir{"xfer-growing"};
  std::unique_ptr<TestServerProcess> server = start_server(dir);
  fs::path full = dir / "full.bin";
  fs::path source = dir / "growing.bin";

  explicit GrowingFixture(std::uint64_t size) {
    write_pattern_file(full, size, 17);
    std::ofstream(source, std::ios::binary).close();
  }

  UploadSpec spec(std::uint32_t interop_version = 0) const {
    UploadSpec s;
    s.source = source.string();
    s.url = server->http_origin() + "/uploads";
    s.source_grows = true;
    s.interop_version = interop_version;
    return s;
  }
};

}  // namespace

TEST_CASE("a growing source is sent while it grows and completes when it ends",
          "[engine][upload][growing]") {
  constexpr std::uint64_t kFirst = 3 << 20;
  constexpr std::uint64_t kTotal = (5 << 20) + 12'345;
  for (const std::uint32_t version : {3u, 5u, 6u, 10u}) {
    for (const bool last_bytes_with_end : {true, false}) {
      CAPTURE(version, last_bytes_with_end);
      GrowingFixture f(kTotal);
      auto engine = Engine::open((f.dir / "journal").string(), test_engine_config());
      REQUIRE(engine);
      auto id = (*engine)->enqueue(f.spec(version));
      REQUIRE(id);
      grow(f.full, f.source, 0, kFirst);
      REQUIRE((*engine)->source_grew(*id, kFirst));
      // Acknowledged before the source ended: the upload streams, it does not wait for a length.
      auto st = wait_acknowledged(**engine, *id, kFirst);
      CHECK(st.awaiting_source_end);
      CHECK_FALSE(st.total);
      CHECK(st.state == TransferState::Active);
      grow(f.full, f.source, kFirst, kTotal);
      if (!last_bytes_with_end) {
        // Every byte out before the end is known: the end is an empty completing append.
        REQUIRE((*engine)->source_grew(*id, kTotal));
        wait_acknowledged(**engine, *id, kTotal);
      }
      REQUIRE((*engine)->source_ended(*id, kTotal));
      auto result = run_until_terminal(**engine, *id);
      REQUIRE(result.terminal);
      INFO(result.terminal->message);
      REQUIRE(result.terminal->kind == EventKind::Completed);
      CHECK(sha256_file(only_upload(f.dir)) == sha256_file(f.full));
      st = *(*engine)->status(*id);
      CHECK_FALSE(st.awaiting_source_end);
      CHECK(st.total == kTotal);
    }
  }
}

TEST_CASE("a growing upload survives an engine restart and continues on the same resource",
          "[engine][upload][growing]") {
  constexpr std::uint64_t kFirst = 2 << 20;
  constexpr std::uint64_t kTotal = 4 << 20;
  GrowingFixture f(kTotal);
  TransferId id = 0;
  std::string resource;
  {
    auto engine = Engine::open((f.dir / "journal").string(), test_engine_config());
    REQUIRE(engine);
    auto queued = (*engine)->enqueue(f.spec());
    REQUIRE(queued);
    id = *queued;
    grow(f.full, f.source, 0, kFirst);
    REQUIRE((*engine)->source_grew(id, kFirst));
    resource = wait_acknowledged(**engine, id, kFirst).upload_url;
    REQUIRE((*engine)->shutdown());
  }
  auto engine = Engine::open((f.dir / "journal").string(), test_engine_config());
  REQUIRE(engine);
  auto st = (*engine)->status(id);
  REQUIRE(st);
  CHECK(st->awaiting_source_end);
  CHECK(st->upload_url == resource);
  // Sizes only grow, and the end must be the file's size.
  CHECK_FALSE((*engine)->source_grew(id, kFirst - 1));
  grow(f.full, f.source, kFirst, kTotal);
  auto wrong_end = (*engine)->source_ended(id, kTotal + 1);
  REQUIRE_FALSE(wrong_end);
  CHECK(wrong_end.error().message().find("not the") != std::string::npos);
  REQUIRE((*engine)->source_ended(id, kTotal));
  CHECK_FALSE((*engine)->source_ended(id, kTotal));  // ended once
  auto result = run_until_terminal(**engine, id);
  REQUIRE(result.terminal);
  INFO(result.terminal->message);
  REQUIRE(result.terminal->kind == EventKind::Completed);
  CHECK(result.terminal->upload_url == resource);
  CHECK(sha256_file(only_upload(f.dir)) == sha256_file(f.full));
}

TEST_CASE("growth is refused for an upload whose source is not growing", "[engine][upload][growing]") {
  GrowingFixture f(1000);
  auto engine = Engine::open((f.dir / "journal").string(), test_engine_config());
  REQUIRE(engine);
  auto spec = f.spec();
  spec.source = f.full.string();
  spec.source_grows = false;
  auto id = (*engine)->enqueue(spec);
  REQUIRE(id);
  auto r = (*engine)->source_grew(*id, 2000);
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == ErrorCategory::InvalidArgument);
  auto result = run_until_terminal(**engine, *id);
  REQUIRE(result.terminal);
  CHECK(result.terminal->kind == EventKind::Completed);
  CHECK_FALSE((*engine)->source_ended(*id, 1000));  // finished
  CHECK_FALSE((*engine)->source_grew(987654, 1));   // unknown
}
