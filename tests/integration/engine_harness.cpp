#include "tests/integration/engine_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

namespace xfer::test {

EngineConfig test_engine_config(const std::filesystem::path& ca_file) {
  if (std::getenv("XFER_DEBUG")) spdlog::set_level(spdlog::level::debug);
  EngineConfig config;
  config.backoff_base = std::chrono::milliseconds(20);
  config.backoff_cap = std::chrono::milliseconds(200);
  config.checkpoint_bytes = 256 * 1024;
  config.checkpoint_interval = std::chrono::milliseconds(100);
  config.transport.ca_file = ca_file.string();
  config.max_attempts = 20;
  return config;
}

bool RunResult::saw(EventKind kind) const {
  for (const auto& e : events)
    if (e.kind == kind) return true;
  return false;
}

RunResult run_until_terminal(Engine& engine, TransferId id, std::chrono::milliseconds timeout,
                             bool ack) {
  RunResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto event = engine.next_event(std::chrono::milliseconds(100));
    if (!event || event->id != id) continue;
    result.events.push_back(*event);
    if (event->terminal()) {
      if (ack) (void)engine.ack(*event);
      result.terminal = *event;
      break;
    }
  }
  return result;
}

std::unique_ptr<TestServerProcess> start_server(const TempDir& dir,
                                                std::vector<std::string> extra_args) {
  TestServerOptions options;
  options.root = dir / "root";
  options.data = dir / "data";
  options.extra_args = std::move(extra_args);
  options.log_file = dir / "server.log";
  return TestServerProcess::start(options);
}

pid_t start_daemon(const std::string& journal, const std::filesystem::path& log,
                   const std::vector<std::string>& args) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) ::_exit(127);
    ::dup2(fd, STDERR_FILENO);
    std::vector<std::string> argv{XFER_CLI_PATH, "daemon", "--journal", journal};
    argv.insert(argv.end(), args.begin(), args.end());
    exec_in_child(argv);
  }
  for (int i = 0; i < 200; ++i) {
    if (run_cli({"limit", "--journal", journal}).exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pid;
}

ChildResult run_cli(const std::vector<std::string>& args,
                    std::optional<std::chrono::milliseconds> kill_after,
                    std::chrono::milliseconds timeout, const std::filesystem::path& stdin_from) {
  char err_template[] = "/tmp/xfer-cli-stderr-XXXXXX";
  const int err_fd = ::mkstemp(err_template);
  if (err_fd < 0) throw std::runtime_error("mkstemp failed");
  char out_template[] = "/tmp/xfer-cli-stdout-XXXXXX";
  const int out_fd = ::mkstemp(out_template);
  if (out_fd < 0) throw std::runtime_error("mkstemp failed");
  // XFER_CLI_BINARY lets a long torture run use a copy of the binaries while the build moves on.
  const char* override_binary = std::getenv("XFER_CLI_BINARY");
  std::string path = override_binary && *override_binary ? override_binary : XFER_CLI_PATH;
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(err_fd, STDERR_FILENO);
    const int null_fd = ::open("/dev/null", O_RDWR);
    const int in_fd = stdin_from.empty() ? null_fd : ::open(stdin_from.c_str(), O_RDONLY);
    ::dup2(in_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    std::vector<char*> argv;
    argv.push_back(path.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  bool killed = false;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (!killed && ((kill_after && elapsed >= *kill_after) || elapsed >= timeout)) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ChildResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  std::ifstream in(err_template);
  std::stringstream ss;
  ss << in.rdbuf();
  result.stderr_text = ss.str();
  ::close(err_fd);
  ::unlink(err_template);
  std::ifstream out(out_template);
  std::stringstream os;
  os << out.rdbuf();
  result.stdout_text = os.str();
  ::close(out_fd);
  ::unlink(out_template);
  return result;
}

namespace {
std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

PausedPipePut put_from_paused_pipe(const std::filesystem::path& source, std::uint64_t first,
                                   std::chrono::milliseconds pause,
                                   const std::vector<std::string>& args,
                                   const std::function<bool()>& seen) {
  std::string command = "(head -c " + std::to_string(first) + " " + shell_quoted(source.string()) +
                        "; sleep " + std::to_string(pause.count() / 1000.0) + "; tail -c +" +
                        std::to_string(first + 1) + " " + shell_quoted(source.string()) + ") | " +
                        shell_quoted(XFER_CLI_PATH) + " put -";
  for (const auto& a : args) command += " " + shell_quoted(a);
  PausedPipePut result;
  const auto started = std::chrono::steady_clock::now();
  std::atomic<bool> ended{false};
  std::thread child([&] {
    result.process = run_process({"bash", "-c", command}, std::chrono::seconds(120));
    ended = true;
  });
  while (!ended && std::chrono::steady_clock::now() - started < pause) {
    if (!result.seen_during_pause && seen()) result.seen_during_pause = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  child.join();
  return result;
}

}  // namespace xfer::test
