#include "tests/support/tus_peers.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace xfer::test {

std::filesystem::path test_peers_dir() { return XFER_TEST_PEERS_DIR; }

std::unique_ptr<TusServerProcess> TusServerProcess::start(const std::filesystem::path& store,
                                                          std::vector<std::string> extra_args) {
  std::filesystem::create_directories(store);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> argv{"node", (test_peers_dir() / "tus-server.mjs").string(), "--dir",
                                store.string()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(out[1], 1);
    const int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 0);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::unique_ptr<TusServerProcess> server(new TusServerProcess());
  server->pid_ = pid;
  // Wait (bounded) for "listening <port>\n".
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{out[0], POLLIN, 0};
    if (::poll(&fd, 1, 200) <= 0) continue;
    char buf[256];
    const auto n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  if (line.rfind("listening ", 0) != 0 || line.find('\n') == std::string::npos)
    throw std::runtime_error("@tus/server did not start (is tests/peers installed? run scripts/setup): '" +
                             line + "'");
  server->port_ = static_cast<std::uint16_t>(std::stoi(line.substr(10)));
  return server;
}

TusServerProcess::~TusServerProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill_now();
}

void TusServerProcess::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string TusServerProcess::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/files/";
}

ProcResult run_tus_js_client(const std::string& endpoint, const std::filesystem::path& file,
                             const std::string& protocol, std::vector<std::string> extra_args) {
  std::vector<std::string> argv{"node", (test_peers_dir() / "tus-upload.mjs").string(),
                                "--endpoint", endpoint, "--file", file.string(), "--protocol", protocol};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return run_process(argv, std::chrono::seconds(120));
}

}  // namespace xfer::test
