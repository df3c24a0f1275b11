// `xfer batch`'s live display in a real pseudo-terminal (forkpty with a set window size) at 80
// and 200 columns: redrawn in place a few times a second, never wider than the terminal, the
// active transfers listed with their protocol, retries visible, the summary at the end; and no
// escape sequence at all when stderr is not a terminal.
#include <catch2/catch.hpp>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/engine_harness.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

// Columns a line takes (UTF-8: one per code point).
std::size_t columns(const std::string& line) {
  std::size_t n = 0;
  for (unsigned char c : line)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// waitpid, bounded: SIGKILL after `timeout`.
int wait_bounded(pid_t pid, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    ::usleep(20'000);
  }
  return status;
}

struct PtyRun {
  int exit_code = -1;
  std::string screen;  // every byte the terminal received
  double seconds = 0;
};

// Runs `xfer ARGS` on a new pseudo-terminal of `cols` x 40 (stdin, stdout and stderr all on it)
// and reads everything it writes until it exits (bounded by `timeout`).
PtyRun run_in_pty(const std::vector<std::string>& args, int cols,
                  std::chrono::seconds timeout = std::chrono::seconds(120)) {
  struct winsize ws {};
  ws.ws_col = static_cast<unsigned short>(cols);
  ws.ws_row = 40;
  int master = -1;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::vector<std::string> argv{XFER_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    exec_in_child(argv);
  }
  PtyRun run;
  const auto deadline = start + timeout;
  char buf[4096];
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the child and its terminal are gone
    run.screen.append(buf, static_cast<std::size_t>(n));
  }
  const int status = wait_bounded(pid, std::chrono::seconds(10));
  ::close(master);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return run;
}

// The lines as a terminal would show them after each write: control sequences removed, split at
// newlines (and carriage returns, which start a line over).
std::vector<std::string> printed_lines(const std::string& screen) {
  const std::string plain = std::regex_replace(screen, std::regex("\x1b\\[[0-9;?]*[A-Za-z]"), "");
  std::vector<std::string> lines;
  std::string line;
  for (char c : plain) {
    if (c == '\n' || c == '\r') {
      if (!line.empty()) lines.push_back(line);
      line.clear();
    } else {
      line.push_back(c);
    }
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

struct LiveFixture {
  TempDir dir{"xfer-live"};
  std::unique_ptr<TestServerProcess> server;
  fs::path manifest;
  static constexpr int kFiles = 24;

  LiveFixture() {
    fs::create_directories(dir / "root");
    fs::create_directories(dir / "out");
    for (int i = 0; i < kFiles; ++i)
      write_pattern_file(dir / "root" / ("file-with-a-rather-long-name-" + std::to_string(i) + ".bin"), 200'000, i);
    server = start_server(dir);
    manifest = dir / "manifest.csv";
    std::ofstream m(manifest);
    m << "direction,url,file\n";
    for (int i = 0; i < kFiles; ++i) {
      const std::string name = "file-with-a-rather-long-name-" + std::to_string(i) + ".bin";
      // ~1.5 s each; one file fails its first attempt with a 503, so a retry shows.
      const std::string fault = i == 3 ? "?fault=status=503,times=1" : "?fault=throttle=140000";
      // Quoted: the fault's comma is part of the URL (RFC 4180).
      m << "download,\"" << server->https_origin() << "/files/" << name << fault << "\","
        << (dir / "out" / name).string() << "\n";
    }
  }

  std::vector<std::string> args(const std::string& journal) const {
    return {"batch", manifest.string(), "--journal", (dir / journal).string(), "--cacert",
            server->cert().string(), "--http2", "--concurrency", "8"};
  }
};

}  // namespace

TEST_CASE("xfer batch draws its live display in a terminal, fitted to 80 and to 200 columns",
          "[cli][batch][display]") {
  LiveFixture f;
  const int cols = GENERATE(80, 200);
  CAPTURE(cols);
  fs::remove_all(f.dir / "out");
  fs::create_directories(f.dir / "out");
  const auto run = run_in_pty(f.args("journal-" + std::to_string(cols)), cols);
  INFO(run.screen.substr(run.screen.size() > 3000 ? run.screen.size() - 3000 : 0));
  REQUIRE(run.exit_code == 0);

  const auto lines = printed_lines(run.screen);
  // The block's lines never wrap (a wrapped line would throw the in-place redraw off). Notes
  // and the summary ("xfer: ...") are printed whole above it and may wrap: they stay.
  for (const auto& line : lines) {
    if (line.starts_with("xfer: ")) continue;
    INFO(line);
    CHECK(columns(line) < static_cast<std::size_t>(cols));
  }
  // Redrawn in place (cursor up, clear below), a few times a second at most, more than once.
  const auto redraws = count(run.screen, "\x1b[J");
  CAPTURE(redraws, run.seconds);
  CHECK(redraws >= 3);
  CHECK(redraws <= static_cast<std::size_t>(run.seconds * 5) + 30);  // + the notes' erasures

  bool overall = false, row = false, counts = false, retry = false;
  for (const auto& line : lines) {
    if (line.starts_with("batch: ") && line.find(" done of ") != std::string::npos) overall = true;
    if (line.find(" h2 ") != std::string::npos && line.find("KiB") != std::string::npos) {
      row = true;
      // At 200 columns a name is shown whole; at 80 it is cut with an ellipsis.
      if (cols == 200) CHECK(line.find("file-with-a-rather-long-name-") != std::string::npos);
    }
    if (line.find(" active, ") != std::string::npos && line.find(" retrying") != std::string::npos) counts = true;
    if (line.find("line 5") != std::string::npos && line.find("503") != std::string::npos) retry = true;
  }
  CHECK(overall);
  CHECK(row);
  CHECK(counts);
  CHECK(retry);
  CHECK(count(run.screen, "xfer: batch: 24 files done") == 1);
  for (int i = 0; i < LiveFixture::kFiles; ++i) {
    const std::string name = "file-with-a-rather-long-name-" + std::to_string(i) + ".bin";
    CHECK(sha256_file(f.dir / "out" / name) == sha256_file(f.dir / "root" / name));
  }
}

TEST_CASE("xfer batch writes no escape sequence when stderr is not a terminal", "[cli][batch][display]") {
  LiveFixture f;
  const auto err = f.dir / "stderr.txt";
  auto args = f.args("journal-plain");
  std::vector<std::string> argv{XFER_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::FILE* e = std::freopen(err.c_str(), "w", stderr);
    std::FILE* o = std::freopen("/dev/null", "w", stdout);
    (void)e;
    (void)o;
    exec_in_child(argv);
  }
  const int status = wait_bounded(pid, std::chrono::seconds(120));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::ifstream in(err);
  std::stringstream text;
  text << in.rdbuf();
  INFO(text.str());
  CHECK(text.str().find('\x1b') == std::string::npos);
  CHECK(text.str().find("xfer: batch: 24 files done") != std::string::npos);
  CHECK(text.str().find("503") != std::string::npos);  // the retry is said, as a plain line
}

TEST_CASE("xfer get of several URLs draws the same live block, and one line for one URL",
          "[cli][get][display]") {
  LiveFixture f;
  const int cols = 80;
  std::vector<std::string> args{"get", "--journal", (f.dir / "journal-get").string(), "--cacert",
                                f.server->cert().string(), "--http2", "-d", (f.dir / "out").string()};
  constexpr int kUrls = 8;
  for (int i = 0; i < kUrls; ++i)
    args.push_back(f.server->https_origin() + "/files/file-with-a-rather-long-name-" + std::to_string(i) +
                   ".bin" + (i == 3 ? "?fault=status=503,times=1" : "?fault=throttle=140000"));
  const auto run = run_in_pty(args, cols);
  INFO(run.screen.substr(run.screen.size() > 3000 ? run.screen.size() - 3000 : 0));
  REQUIRE(run.exit_code == 0);
  const auto lines = printed_lines(run.screen);
  bool overall = false, row = false, retry = false;
  for (const auto& line : lines) {
    if (!line.starts_with("xfer: ")) {
      INFO(line);
      CHECK(columns(line) < static_cast<std::size_t>(cols));
    }
    if (line.starts_with("get: ") && line.find(" done of 8") != std::string::npos) overall = true;
    if (line.find(" h2 ") != std::string::npos && line.find("KiB") != std::string::npos) row = true;
    if (line.find("file-with-a-rather-long-name-3.bin: ") != std::string::npos && line.find("503") != std::string::npos)
      retry = true;
  }
  CHECK(overall);
  CHECK(row);
  CHECK(retry);
  CHECK(count(run.screen, "\x1b[J") >= 3);
  CHECK(count(run.screen, "xfer: get: 8 of 8 done") == 1);
  for (int i = 0; i < kUrls; ++i) {
    const std::string name = "file-with-a-rather-long-name-" + std::to_string(i) + ".bin";
    CHECK(sha256_file(f.dir / "out" / name) == sha256_file(f.dir / "root" / name));
  }

  // One URL: curl's single line, no block and no summary.
  const auto one = run_in_pty({"get", "--journal", (f.dir / "journal-one").string(), "--cacert",
                               f.server->cert().string(), "-o", (f.dir / "one.bin").string(),
                               f.server->https_origin() + "/files/file-with-a-rather-long-name-9.bin?fault=throttle=140000"},
                              cols);
  INFO(one.screen);
  REQUIRE(one.exit_code == 0);
  CHECK(one.screen.find("0/1 done") != std::string::npos);
  CHECK(one.screen.find("get: ") == std::string::npos);
  CHECK(sha256_file(f.dir / "one.bin") == sha256_file(f.dir / "root" / "file-with-a-rather-long-name-9.bin"));
}
