// `xfer daemon` end to end against the real xfer-testserver: `xfer add` queues downloads and
// uploads into it, the daemon is killed with SIGKILL in the middle, `xfer events` works on the
// journal while nothing runs, a restarted daemon finishes everything byte-identical, and every
// completion is handed out until acknowledged and never after (exactly once to whoever
// acknowledges it). `xfer limit` changes the running daemon's limit; SIGTERM stops it at a
// checkpoint with the resumable code and removes its socket.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
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

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

int wait_exit(pid_t pid) {
  bool killed = false;
  const int status = wait_for_exit(pid, std::chrono::seconds(30), &killed);
  return !killed && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("xfer daemon: add, SIGKILL, restart: every file right, each completion handed out until acknowledged",
          "[cli][daemon]") {
  TempDir dir("xfer-daemon");
  fs::create_directories(dir / "root" / "up");
  fs::create_directories(dir / "src");
  fs::create_directories(dir / "out");
  constexpr int kDownloads = 10;
  constexpr int kUploads = 2;
  for (int i = 0; i < kDownloads; ++i)
    write_pattern_file(dir / "root" / ("d" + std::to_string(i) + ".bin"), 500'000, 300 + i);
  for (int i = 0; i < kUploads; ++i) write_pattern_file(dir / "src" / ("u" + std::to_string(i) + ".bin"), 300'000, 400 + i);
  auto server = start_server(dir);
  const auto journal = (dir / "journal").string();
  const auto log = dir / "daemon-err.txt";

  pid_t daemon = start_daemon(journal, log);
  std::vector<std::string> add{"add", "-d", (dir / "out").string(), "--journal", journal};
  for (int i = 0; i < kDownloads; ++i)
    // Slow enough (about 2 s each) that the kill lands in the middle of most of them.
    add.push_back(server->http_origin() + "/files/d" + std::to_string(i) + ".bin?fault=throttle=250000");
  auto added = run_cli(add);
  INFO(added.stderr_text);
  REQUIRE(added.exit_code == 0);
  std::set<TransferId> ids;
  {
    std::istringstream lines(added.stdout_text);
    for (std::string line; std::getline(lines, line);) ids.insert(std::stoull(line.substr(0, line.find('\t'))));
  }
  REQUIRE(ids.size() == kDownloads);
  auto uploads = run_cli({"add", "--upload", (dir / "src" / "u0.bin").string(), (dir / "src" / "u1.bin").string(),
                          server->http_origin() + "/files/up", "--journal", journal});
  INFO(uploads.stderr_text);
  REQUIRE(uploads.exit_code == 0);
  {
    std::istringstream lines(uploads.stdout_text);
    for (std::string line; std::getline(lines, line);) ids.insert(std::stoull(line.substr(0, line.find('\t'))));
  }
  REQUIRE(ids.size() == kDownloads + kUploads);

  // A refused entry is reported and queues nothing; the others are not affected.
  auto bad = run_cli({"add", "ftp://example.invalid/x", "--journal", journal});
  CHECK(bad.exit_code == 2);
  CHECK(bad.stderr_text.find("entry 1") != std::string::npos);

  // The running daemon's limit, shown and changed.
  auto limit = run_cli({"limit", "--journal", journal});
  REQUIRE(limit.exit_code == 0);
  CHECK(limit.stdout_text.find("whole run: none") != std::string::npos);
  limit = run_cli({"limit", "08:00,50M 18:00,off", "--per-transfer", "--journal", journal});
  REQUIRE(limit.exit_code == 0);
  CHECK(limit.stdout_text.find("schedule \"08:00,50M 18:00,off\"") != std::string::npos);
  CHECK(run_cli({"limit", "25:00,1M", "--journal", journal}).exit_code == 2);
  REQUIRE(run_cli({"limit", "off", "--per-transfer", "--journal", journal}).exit_code == 0);

  // Kill it once some transfers have ended and others have not.
  std::size_t ended_before_kill = 0;
  for (int i = 0; i < 400; ++i) {
    auto ev = run_cli({"events", "--json", "--journal", journal});
    REQUIRE(ev.exit_code == 0);
    ended_before_kill = json_lines(ev.stdout_text).size();
    if (ended_before_kill >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ::kill(daemon, SIGKILL);
  ::waitpid(daemon, nullptr, 0);
  REQUIRE(ended_before_kill >= 1);

  // Nothing runs: the journal itself answers, and an acknowledgement there holds for good.
  auto ev = run_cli({"events", "--json", "--journal", journal});
  INFO(ev.stderr_text);
  REQUIRE(ev.exit_code == 0);
  const auto first = json_lines(ev.stdout_text);
  REQUIRE(first.size() >= ended_before_kill);
  std::set<TransferId> acked_ids;
  std::vector<std::string> ack{"events", "--journal", journal, "--ack"};
  // The daemon reports digests: each completion's is that of its file (destination or source),
  // also for transfers the SIGKILL cut and the next daemon finished.
  const auto digest_is_the_files = [](const json& e) {
    INFO(e.dump());
    CHECK(e.at("digest") == "sha256:" + sha256_file(e.at("file").get<std::string>()));
  };
  for (const auto& e : first) {
    CHECK(e.at("event") == "completed");
    digest_is_the_files(e);
    acked_ids.insert(e.at("id").get<TransferId>());
    ack.push_back(std::to_string(e.at("seq").get<std::uint64_t>()));
  }
  REQUIRE(run_cli(ack).exit_code == 0);
  CHECK(run_cli(ack).exit_code == 2);  // acknowledged already: refused, nothing changes

  daemon = start_daemon(journal, log);
  // Everything ends (bounded), then the rest of the completions wait for an acknowledgement.
  std::vector<json> rest;
  for (int i = 0; i < 600; ++i) {
    auto r = run_cli({"events", "--json", "--journal", journal});
    REQUIRE(r.exit_code == 0);
    rest = json_lines(r.stdout_text);
    if (acked_ids.size() + rest.size() >= ids.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::multiset<TransferId> handed_out(acked_ids.begin(), acked_ids.end());
  std::vector<std::string> ack_rest{"events", "--journal", journal, "--ack"};
  for (const auto& e : rest) {
    INFO(e.dump());
    CHECK(e.at("event") == "completed");
    digest_is_the_files(e);
    handed_out.insert(e.at("id").get<TransferId>());
    ack_rest.push_back(std::to_string(e.at("seq").get<std::uint64_t>()));
  }
  // Each transfer's completion exactly once across both daemons, none acknowledged shown again.
  CHECK(handed_out.size() == ids.size());
  CHECK(std::set<TransferId>(handed_out.begin(), handed_out.end()) == ids);
  REQUIRE(run_cli(ack_rest).exit_code == 0);
  auto none = run_cli({"events", "--json", "--journal", journal});
  REQUIRE(none.exit_code == 0);
  CHECK(none.stdout_text.empty());

  ::kill(daemon, SIGTERM);
  CHECK(wait_exit(daemon) == 130);
  CHECK_FALSE(fs::exists(journal + "/control.sock"));
  // And after the daemon's end, nothing acknowledged comes back.
  none = run_cli({"events", "--journal", journal});
  REQUIRE(none.exit_code == 0);
  CHECK(none.stdout_text.empty());

  for (int i = 0; i < kDownloads; ++i) {
    const auto name = "d" + std::to_string(i) + ".bin";
    CHECK(sha256_file(dir / "out" / name) == sha256_file(dir / "root" / name));
  }
  for (int i = 0; i < kUploads; ++i) {
    const auto name = "u" + std::to_string(i) + ".bin";
    CHECK(sha256_file(dir / "root" / "up" / name) == sha256_file(dir / "src" / name));
  }
}

TEST_CASE("xfer add with nothing running queues into the journal and a daemon started later runs it",
          "[cli][daemon]") {
  TempDir dir("xfer-daemon-later");
  fs::create_directories(dir / "root");
  fs::create_directories(dir / "out");
  write_pattern_file(dir / "root" / "a.bin", 200'000, 77);
  auto server = start_server(dir);
  const auto journal = (dir / "journal").string();
  auto added = run_cli({"add", server->http_origin() + "/files/a.bin", "-o", (dir / "out" / "a.bin").string(),
                        "--journal", journal});
  INFO(added.stderr_text);
  REQUIRE(added.exit_code == 0);
  CHECK(added.stderr_text.find("nothing runs on") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out" / "a.bin"));  // queued, not run

  auto ls = run_cli({"ls", "--json", "--journal", journal});
  REQUIRE(ls.exit_code == 0);
  CHECK(json_lines(ls.stdout_text).at(0).at("state") == "queued");

  const pid_t daemon = start_daemon(journal, dir / "daemon-err.txt");
  std::vector<json> events;
  for (int i = 0; i < 400 && events.empty(); ++i) {
    auto r = run_cli({"events", "--json", "--journal", journal});
    REQUIRE(r.exit_code == 0);
    events = json_lines(r.stdout_text);
    if (events.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ::kill(daemon, SIGTERM);
  CHECK(wait_exit(daemon) == 130);
  REQUIRE(events.size() == 1);
  CHECK(events[0].at("event") == "completed");
  CHECK(sha256_file(dir / "out" / "a.bin") == sha256_file(dir / "root" / "a.bin"));
}

TEST_CASE("xfer limit lifts the limit of a running xfer get: the rest comes at once", "[cli][limit]") {
  TempDir dir("xfer-limit-live");
  fs::create_directories(dir / "root");
  write_pattern_file(dir / "root" / "slow.bin", 400'000, 91);
  auto server = start_server(dir);
  const auto journal = (dir / "journal").string();
  const auto out = dir / "slow.bin";
  std::fflush(stdout);
  std::fflush(stderr);
  const auto started = std::chrono::steady_clock::now();
  const pid_t get = ::fork();
  REQUIRE(get >= 0);
  if (get == 0)
    // At 2 KiB/s the file would take over three minutes.
    exec_in_child({XFER_CLI_PATH, "get", server->http_origin() + "/files/slow.bin", "-o", out.string(),
                   "--limit-rate", "2K", "--journal", journal});
  ChildResult shown;
  for (int i = 0; i < 200; ++i) {
    shown = run_cli({"limit", "--journal", journal});
    if (shown.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO(shown.stderr_text);
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.stdout_text.find("each transfer: 2.0 KiB/s") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto lifted = run_cli({"limit", "off", "--per-transfer", "--journal", journal});
  INFO(lifted.stderr_text);
  REQUIRE(lifted.exit_code == 0);
  CHECK(lifted.stdout_text.find("each transfer: none") != std::string::npos);
  bool killed = false;
  const int status = wait_for_exit(get, std::chrono::seconds(60), &killed);
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(killed);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(took < std::chrono::seconds(30));
  CHECK(sha256_file(out) == sha256_file(dir / "root" / "slow.bin"));
  // Nothing runs now: a limit has nobody to go to.
  CHECK(run_cli({"limit", "1M", "--journal", journal}).exit_code == 2);
}
