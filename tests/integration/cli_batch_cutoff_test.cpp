// `xfer batch --max-duration / --max-transfer`: the cut-off stops admission, checkpoints what
// runs and exits 130 with the reason in the summary; the same batch again finishes everything,
// byte-identical; bad values are refused before anything moves.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/integration/engine_harness.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

struct CutOffFixture {
  TempDir dir{"xfer-cutoff"};
  std::unique_ptr<TestServerProcess> server;
  fs::path manifest;
  static constexpr int kFiles = 30;

  CutOffFixture() {
    fs::create_directories(dir / "root");
    fs::create_directories(dir / "out");
    for (int i = 0; i < kFiles; ++i) write_pattern_file(dir / "root" / ("f" + std::to_string(i) + ".bin"), 100'000, 60 + i);
    server = start_server(dir);
    manifest = dir / "manifest.csv";
    std::ofstream m(manifest);
    m << "direction,url,file\n";
    for (int i = 0; i < kFiles; ++i)
      m << "download," << server->http_origin() << "/files/f" << i << ".bin?fault=throttle=100000,"
        << (dir / "out" / ("f" + std::to_string(i) + ".bin")).string() << "\n";
  }

  std::vector<std::string> args(std::vector<std::string> more) const {
    std::vector<std::string> a{"batch", manifest.string(), "--journal", (dir / "journal").string(), "--concurrency", "3"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }

  std::size_t in_place() const {
    std::size_t n = 0;
    for (int i = 0; i < kFiles; ++i) {
      const auto name = "f" + std::to_string(i) + ".bin";
      if (!fs::exists(dir / "out" / name)) continue;
      CHECK(sha256_file(dir / "out" / name) == sha256_file(dir / "root" / name));
      ++n;
    }
    return n;
  }
};

}  // namespace

TEST_CASE("xfer batch --max-duration stops admitting, checkpoints and exits 130, and the batch again finishes",
          "[cli][batch]") {
  CutOffFixture f;
  // 30 files of 100 kB at 100 kB/s each, 3 at a time: about 10 s in all, cut at 1.5 s.
  auto cut = run_cli(f.args({"--max-duration", "1500ms"}));
  INFO(cut.stderr_text);
  CHECK(cut.exit_code == 130);
  CHECK(cut.stderr_text.find("--max-duration 1.5 s reached") != std::string::npos);
  CHECK(cut.stderr_text.find("stopped: --max-duration") != std::string::npos);
  CHECK(f.in_place() < static_cast<std::size_t>(CutOffFixture::kFiles));

  auto again = run_cli(f.args({}));
  INFO(again.stderr_text);
  CHECK(again.exit_code == 0);
  CHECK(f.in_place() == static_cast<std::size_t>(CutOffFixture::kFiles));
}

TEST_CASE("xfer batch --max-transfer stops once that many bytes moved, and bad cut-offs are refused",
          "[cli][batch]") {
  CutOffFixture f;
  auto cut = run_cli(f.args({"--max-transfer", "250K"}));
  INFO(cut.stderr_text);
  CHECK(cut.exit_code == 130);
  CHECK(cut.stderr_text.find("--max-transfer reached") != std::string::npos);
  const auto first = f.in_place();
  CHECK(first < static_cast<std::size_t>(CutOffFixture::kFiles));

  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"--max-transfer", "0"}, {"--max-transfer", "lots"}, {"--max-duration", "0"}, {"--max-duration", "5x"}}) {
    CAPTURE(bad[0], bad[1]);
    auto refused = run_cli(f.args(bad));
    CHECK(refused.exit_code == 2);
    CHECK(refused.stderr_text.find(bad[0] + ": ") != std::string::npos);
  }
  CHECK(f.in_place() == first);  // nothing moved for the refused ones

  auto again = run_cli(f.args({}));
  INFO(again.stderr_text);
  CHECK(again.exit_code == 0);
  CHECK(f.in_place() == static_cast<std::size_t>(CutOffFixture::kFiles));
}
