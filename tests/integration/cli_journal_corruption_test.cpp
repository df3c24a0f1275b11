// A damaged journal is reported, never silently treated as empty: after an interrupted
// download, garbage over the leveldb log must make `xfer resume` fail with the journal exit
// code (10) and keep the .part, instead of exiting 0 having forgotten the transfer.
#include <filesystem>
#include <fstream>
#include <random>

#include <catch2/catch.hpp>

#include "tests/integration/engine_harness.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::vector<fs::path> logs_in(const fs::path& journal) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(journal))
    if (e.path().extension() == ".log") out.push_back(e.path());
  return out;
}

}  // namespace

TEST_CASE("cli: a journal log overwritten with garbage is reported, not forgotten",
          "[cli][journal-corruption]") {
  TempDir dir("xfer-corrupt");
  fs::create_directories(dir / "root");
  write_pattern_file(dir / "root" / "f.bin", 8 << 20, 5);
  auto server = start_server(dir);
  const std::string url = server->http_origin() + "/files/f.bin?fault=throttle=4000000";
  for (const bool whole : {false, true}) {
    CAPTURE(whole);
    const auto journal = dir / (whole ? "j-whole" : "j-head");
    const auto dest = dir / (whole ? "out-whole" : "out-head") / "f.bin";
    auto first = run_cli({"get", url, "-o", dest.string(), "--journal", journal.string(),
                          "--checkpoint-every", "256K"},
                         1200ms);
    REQUIRE(first.exit_code == -9);
    REQUIRE(fs::exists(dest.string() + ".part"));
    auto logs = logs_in(journal);
    REQUIRE_FALSE(logs.empty());
    for (const auto& log : logs) {
      const auto size = fs::file_size(log);
      std::mt19937 rng(7);
      std::fstream f(log, std::ios::in | std::ios::out | std::ios::binary);
      const auto n = whole ? size : std::min<std::uintmax_t>(size, 64);
      for (std::uintmax_t i = 0; i < n; ++i) f.put(static_cast<char>(rng()));
    }
    auto resumed = run_cli({"resume", "--journal", journal.string()});
    INFO(resumed.stderr_text);
    CHECK(resumed.exit_code == 10);
    CHECK(resumed.stderr_text.find("journal") != std::string::npos);
    CHECK(fs::exists(dest.string() + ".part"));
    CHECK_FALSE(fs::exists(dest));
  }
}
