// `xfer ls` and `xfer status ID` on a journal no process holds: every transfer with its state and
// bytes, JSON parsed, the failure's reason (the server's status) kept for `status`; a journal in
// use, a missing journal, an unknown id and a bad --state are clear errors.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/integration/engine_harness.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// `xfer ARGS`: its exit code, stdout into `out`, stderr into `err`.
int run_capture(const std::vector<std::string>& args, const fs::path&, std::string& out, std::string& err) {
  auto r = run_cli(args);
  out = r.stdout_text;
  err = r.stderr_text;
  return r.exit_code;
}

}  // namespace

TEST_CASE("xfer ls and xfer status show what the journal holds, with the reason of a failure",
          "[cli][look]") {
  TempDir dir("xfer-look");
  fs::create_directories(dir / "root");
  fs::create_directories(dir / "out");
  for (int i = 0; i < 3; ++i) write_pattern_file(dir / "root" / ("f" + std::to_string(i) + ".bin"), 50'000 + i, 80 + i);
  auto server = start_server(dir);
  const auto journal = (dir / "journal").string();
  std::vector<std::string> get{"get", "--journal", journal, "--retry", "0", "-d", (dir / "out").string()};
  for (int i = 0; i < 3; ++i) get.push_back(server->http_origin() + "/files/f" + std::to_string(i) + ".bin");
  get.push_back(server->http_origin() + "/files/missing.bin");  // 404: fails for good
  auto got = run_cli(get);
  INFO(got.stderr_text);
  REQUIRE(got.exit_code == 5);  // http: the 404

  std::string out, err;
  REQUIRE(run_capture({"ls", "--journal", journal, "--json"}, dir.path(), out, err) == 0);
  INFO(out << err);
  std::istringstream lines(out);
  std::string line;
  std::map<std::string, json> by_state;
  std::size_t n = 0;
  TransferId failed_id = 0;
  while (std::getline(lines, line)) {
    auto j = json::parse(line);
    ++n;
    CHECK(j.at("v") == 1);
    if (j.at("state") == "failed") failed_id = j.at("id").get<TransferId>();
    if (j.at("state") == "completed") {
      CHECK(j.at("bytes") == j.at("total"));
      CHECK(j.at("durable_bytes") == j.at("total"));
    }
    by_state[j.at("state").get<std::string>()] = j;
  }
  CHECK(n == 4);
  REQUIRE(failed_id != 0);

  REQUIRE(run_capture({"ls", "--journal", journal, "--state", "completed"}, dir.path(), out, err) == 0);
  CHECK(std::count(out.begin(), out.end(), '\n') == 3);

  REQUIRE(run_capture({"status", std::to_string(failed_id), "--journal", journal, "--json"}, dir.path(), out, err) == 0);
  auto st = json::parse(out);
  CHECK(st.at("state") == "failed");
  CHECK(st.at("last_error").at("http_status") == 404);
  REQUIRE(run_capture({"status", std::to_string(failed_id), "--journal", journal}, dir.path(), out, err) == 0);
  CHECK(out.find("why:") != std::string::npos);
  CHECK(out.find("404") != std::string::npos);

  CHECK(run_capture({"status", "99999", "--journal", journal}, dir.path(), out, err) == 2);
  CHECK(err.find("no transfer 99999") != std::string::npos);
  CHECK(run_capture({"ls", "--journal", journal, "--state", "bogus"}, dir.path(), out, err) == 2);
  CHECK(run_capture({"ls", "--journal", (dir / "nothing-here").string()}, dir.path(), out, err) == 10);
  CHECK(err.find("no journal at") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "nothing-here"));  // looking creates nothing
}

TEST_CASE("xfer ls on a journal a running xfer holds asks it, and says so when it cannot", "[cli][look]") {
  TempDir dir("xfer-look-busy");
  fs::create_directories(dir / "root");
  write_pattern_file(dir / "root" / "slow.bin", 2'000'000, 9);
  auto server = start_server(dir);
  const auto journal = (dir / "journal").string();
  std::vector<std::string> argv{XFER_CLI_PATH, "get", "--journal", journal, "-o", (dir / "slow.bin").string(),
                                server->http_origin() + "/files/slow.bin?fault=throttle=200000"};
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (!std::freopen("/dev/null", "w", stderr)) ::_exit(127);
    exec_in_child(argv);
  }
  std::string out, err;
  int rc = -1;
  // Until the running one answers over its control socket (bounded: 5 s).
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    rc = run_capture({"ls", "--journal", journal}, dir.path(), out, err);
    if (rc == 0 && out.find("slow.bin") != std::string::npos) break;
  }
  CHECK(rc == 0);
  CHECK(out.find("active") != std::string::npos);
  // A holder without a socket (one too old to serve it, or its socket removed): said plainly.
  fs::remove(journal + "/control.sock");
  rc = run_capture({"ls", "--journal", journal}, dir.path(), out, err);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  INFO(err);
  CHECK(rc == 10);
  CHECK(err.find("in use by pid " + std::to_string(pid)) != std::string::npos);
}

TEST_CASE("xfer ls run many at once with nothing running: each waits out the others' moment on the journal",
          "[cli][look]") {
  TempDir dir("xfer-ls-together");
  const auto journal = (dir / "journal").string();
  REQUIRE(run_cli({"add", "http://127.0.0.1:9/x.bin", "-o", (dir / "x.bin").string(), "--journal", journal})
              .exit_code == 0);
  // Each one holds the journal's lock while it reads; without the wait, the losers of each race
  // would fail with "in use by pid N".
  constexpr int kTogether = 6;
  std::vector<std::thread> threads;
  std::vector<ChildResult> results(kTogether);
  for (int round = 0; round < 3; ++round) {
    threads.clear();
    for (int i = 0; i < kTogether; ++i) threads.emplace_back([&, i] { results[i] = run_cli({"ls", "--journal", journal}); });
    for (auto& t : threads) t.join();
    for (const auto& r : results) {
      INFO(r.stderr_text);
      CHECK(r.exit_code == 0);
      CHECK(r.stdout_text.find("x.bin") != std::string::npos);
    }
  }
}
