// tus 1.0 against a server no one here wrote (@tus/server 2.x with @tus/file-store, from npm),
// and the other way round: tus-js-client (a foreign client) uploading to xfer-testserver with
// its IETF-draft protocols (interop 5 and 6). Bytes are compared by SHA-256 of what the server
// stored; @tus/file-store keeps each upload as <id> beside <id>.json.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "tests/integration/engine_harness.h"
#include "tests/support/files.h"
#include "tests/support/tus_peers.h"

using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

// The uploads @tus/file-store finished or holds: data files, not their .json info.
std::set<std::string> stored(const fs::path& store) {
  std::set<std::string> out;
  if (!fs::exists(store)) return out;
  for (const auto& e : fs::directory_iterator(store))
    if (e.path().extension() != ".json") out.insert(e.path().filename().string());
  return out;
}

// `xfer put FILE ENDPOINT --protocol tus --journal JOURNAL` and the extra flags.
std::vector<std::string> tus_put(const fs::path& source, const std::string& endpoint,
                                 const fs::path& journal, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"put",      source.string(), endpoint, "--protocol", "tus",
                                "--journal", journal.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("xfer put --protocol tus uploads to @tus/server: creation-with-upload and careful with chunks",
          "[cli][upload][tus]") {
  TempDir dir{"xfer-tus"};
  const auto store = dir / "store";
  auto server = TusServerProcess::start(store);
  struct Case {
    const char* name;
    std::uint64_t size;
    std::vector<std::string> extra;
  };
  const std::vector<Case> cases = {
      {"small, body with the creation", 300'001, {}},
      {"careful, several PATCHes", 5'000'003, {"--creation", "careful", "--chunk-size", "1M"}},
      {"empty file", 0, {}},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      const auto source = dir / "src.bin";
      write_pattern_file(source, c.size, 31);
      const auto before = stored(store);
      const auto r = run_cli(tus_put(source, server->endpoint(), dir / "j", c.extra));
      INFO(r.stderr_text);
      REQUIRE(r.exit_code == 0);
      std::set<std::string> fresh;
      for (const auto& n : stored(store))
        if (!before.contains(n)) fresh.insert(n);
      REQUIRE(fresh.size() == 1);
      CHECK(sha256_file(store / *fresh.begin()) == sha256_file(source));
    }
  }
}

TEST_CASE("xfer put --protocol tus killed with SIGKILL is finished by xfer resume on the same upload",
          "[cli][upload][tus]") {
  TempDir dir{"xfer-tus-kill"};
  const auto store = dir / "store";
  auto server = TusServerProcess::start(store);
  const auto source = dir / "big.bin";
  write_pattern_file(source, 24'000'007, 32);
  const std::string journal = (dir / "j").string();
  const auto killed = run_cli(
      tus_put(source, server->endpoint(), journal, {"--chunk-size", "2M", "--limit-rate", "16M"}),
      std::chrono::milliseconds(700));
  REQUIRE(killed.exit_code == -9);
  const auto r = run_cli({"resume", "--journal", journal});
  INFO(r.stderr_text);
  REQUIRE(r.exit_code == 0);
  // One upload resource on the server, resumed rather than started again.
  const auto uploads = stored(store);
  REQUIRE(uploads.size() == 1);
  CHECK(sha256_file(store / *uploads.begin()) == sha256_file(source));
}

TEST_CASE("xfer put - --protocol tus streams stdin to @tus/server with a deferred length",
          "[cli][upload][tus][stdin]") {
  constexpr std::uint64_t kFirst = 2'000'000;
  TempDir dir{"xfer-tus-stdin"};
  const auto store = dir / "store";
  auto server = TusServerProcess::start(store);
  for (const std::uint64_t size : {kFirst, std::uint64_t{3'300'003}}) {
    CAPTURE(size);  // all bytes before the pause (an empty PATCH declares the length) or not
    const auto source = dir / "src.bin";
    write_pattern_file(source, size, 34);
    const auto before = stored(store);
    // Upload-Defer-Length lets the bytes go before the end is known: they are in the store
    // while the pipe is paused.
    const auto r = put_from_paused_pipe(
        source, kFirst, std::chrono::milliseconds(4000),
        {server->endpoint(), "--protocol", "tus", "--journal", (dir / "j").string()}, [&] {
          for (const auto& e : fs::directory_iterator(store))
            if (e.path().extension() != ".json" && !before.contains(e.path().filename().string()) &&
                fs::file_size(e.path()) >= kFirst)
              return true;
          return false;
        });
    INFO(r.process.err);
    REQUIRE(r.process.exit_code == 0);
    CHECK(r.seen_during_pause);
    std::set<std::string> fresh;
    for (const auto& n : stored(store))
      if (!before.contains(n)) fresh.insert(n);
    REQUIRE(fresh.size() == 1);
    CHECK(sha256_file(store / *fresh.begin()) == sha256_file(source));
    // The server knows the length now: the upload is complete there.
    std::ifstream info(store / (*fresh.begin() + ".json"));
    std::string json((std::istreambuf_iterator<char>(info)), std::istreambuf_iterator<char>());
    CHECK(json.find("\"size\":" + std::to_string(size)) != std::string::npos);
  }
}

TEST_CASE("xfer put --protocol tus refuses a file above Tus-Max-Size before sending a byte",
          "[cli][upload][tus]") {
  TempDir dir{"xfer-tus-max"};
  const auto store = dir / "store";
  auto server = TusServerProcess::start(store, {"--max-size", "100000"});
  const auto source = dir / "src.bin";
  write_pattern_file(source, 100'001, 33);
  const auto r = run_cli(tus_put(source, server->endpoint(), dir / "j"));
  INFO(r.stderr_text);
  CHECK(r.exit_code != 0);
  CHECK(r.stderr_text.find("100000") != std::string::npos);
  CHECK(stored(store).empty());
}

TEST_CASE("tus-js-client uploads to xfer-testserver over the IETF draft (interop 5 and 6)",
          "[upload][tus][testserver]") {
  TempDir dir{"xfer-tusjs"};
  fs::create_directories(dir / "root");
  auto server = start_server(dir);
  const auto source = dir / "src.bin";
  write_pattern_file(source, 3'000'017, 34);
  // One request per upload: tus-js-client 4.3.1 reading a file in chunks never marks its last
  // chunk Upload-Complete: ?1 (its FileSource compares the chunk's size, not its end, with the
  // file size), so a chunked IETF upload from it stays incomplete on any conforming server.
  for (const std::string protocol : {"ietf-draft-03", "ietf-draft-05"}) {
    {
      CAPTURE(protocol);
      const auto r = run_tus_js_client(server->http_origin() + "/uploads", source, protocol);
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      const auto at = r.out.find("/uploads/");
      REQUIRE(at != std::string::npos);
      auto name = r.out.substr(at + 9);
      while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
      CHECK(sha256_file(dir / "root" / "uploads" / name) == sha256_file(source));
    }
  }
}
