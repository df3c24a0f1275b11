// Acting on chosen transfers: `xfer pause --all` against a running daemon, `xfer why` on a
// paused one, `xfer resume ID` continuing only that one (the others stay paused), several ids
// in one call with an unknown one among them (the others still acted on, exit 2), and with
// nothing running `xfer resume ID` / `--all-paused` finishing those transfers byte-identical.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/integration/engine_harness.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::map<TransferId, std::string> states(const std::string& journal) {
  auto ls = run_cli({"ls", "--json", "--journal", journal});
  INFO(ls.stderr_text);
  REQUIRE(ls.exit_code == 0);
  std::map<TransferId, std::string> out;
  std::istringstream lines(ls.stdout_text);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) {
      auto j = json::parse(line);
      out[j.at("id").get<TransferId>()] = j.at("state").get<std::string>();
    }
  return out;
}

}  // namespace

TEST_CASE("xfer pause --all, why, and resume ID: only the chosen transfer continues, live and with nothing running",
          "[cli][control][resume-id]") {
  TempDir dir("xfer-resume-one");
  fs::create_directories(dir / "root");
  fs::create_directories(dir / "out");
  constexpr int kFiles = 3;
  for (int i = 0; i < kFiles; ++i) write_pattern_file(dir / "root" / ("f" + std::to_string(i)), 500'000, 40 + i);
  auto server = start_server(dir);
  const auto journal = (dir / "journal").string();

  const pid_t daemon = start_daemon(journal, dir / "daemon-err.txt");
  REQUIRE(run_cli({"limit", "--journal", journal}).exit_code == 0);  // it answers

  // Throttled by the server to ~3 s each, so they are still running when paused.
  std::vector<std::string> add{"add", "-d", (dir / "out").string(), "--journal", journal};
  for (int i = 0; i < kFiles; ++i)
    add.push_back(server->http_origin() + "/files/f" + std::to_string(i) + "?fault=throttle=150000");
  auto added = run_cli(add);
  INFO(added.stderr_text);
  REQUIRE(added.exit_code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  auto paused = run_cli({"pause", "--all", "--json", "--journal", journal});
  INFO(paused.stderr_text);
  REQUIRE(paused.exit_code == 0);
  auto now = states(journal);
  REQUIRE(now.size() == kFiles);
  for (const auto& [id, state] : now) CHECK(state == "paused");
  const TransferId first = now.begin()->first;
  const TransferId second = std::next(now.begin())->first;

  auto why = run_cli({"why", std::to_string(first), "--journal", journal});
  REQUIRE(why.exit_code == 0);
  CHECK(why.stdout_text.find("paused by request") != std::string::npos);
  CHECK(why.stdout_text.find("xfer resume " + std::to_string(first)) != std::string::npos);

  // Several ids, one unknown: the known one is acted on, the unknown one decides the exit code.
  auto mixed = run_cli({"resume", std::to_string(first), "424242", "--journal", journal});
  CHECK(mixed.exit_code == 2);
  CHECK(mixed.stderr_text.find("424242") != std::string::npos);

  std::string first_state;
  for (int i = 0; i < 600; ++i) {  // ≤ 30 s
    first_state = states(journal).at(first);
    if (first_state == "completed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(first_state == "completed");
  now = states(journal);
  for (const auto& [id, state] : now)
    if (id != first) CHECK(state == "paused");  // resume ID touched no other transfer

  ::kill(daemon, SIGTERM);
  bool killed = false;
  const int status = wait_for_exit(daemon, std::chrono::seconds(30), &killed);
  REQUIRE_FALSE(killed);
  CHECK(WIFEXITED(status));

  // Nothing runs now: `resume ID` runs that transfer in the foreground and waits for it only.
  auto second_only = run_cli({"resume", std::to_string(second), "--journal", journal});
  INFO(second_only.stderr_text);
  CHECK(second_only.exit_code == 0);
  now = states(journal);
  CHECK(now.at(second) == "completed");
  for (const auto& [id, state] : now)
    if (id != first && id != second) CHECK(state == "paused");

  auto finished_one = run_cli({"resume", std::to_string(first), "--journal", journal});
  CHECK(finished_one.exit_code == 2);
  CHECK(finished_one.stderr_text.find("nothing to resume") != std::string::npos);

  auto rest = run_cli({"resume", "--all-paused", "--journal", journal});
  INFO(rest.stderr_text);
  CHECK(rest.exit_code == 0);
  for (const auto& [id, state] : states(journal)) CHECK(state == "completed");
  for (int i = 0; i < kFiles; ++i) {
    const auto name = "f" + std::to_string(i);
    CHECK(sha256_file(dir / "out" / name) == sha256_file(dir / "root" / name));
  }
  CHECK(run_cli({"resume", "--all-paused", "--journal", journal}).exit_code == 2);  // none left paused
}
