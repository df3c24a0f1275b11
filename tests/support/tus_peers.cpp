#include "tests/support/tus_peers.h"

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
  std::vector<std::string> argv{"node", (test_peers_dir() / "tus-server.mjs").string(), "--dir",
                                store.string()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  const auto child = spawn_with_stdout_pipe(argv);
  std::unique_ptr<TusServerProcess> server(new TusServerProcess());
  server->pid_ = child.pid;
  // "listening <port>", bounded.
  std::string line;
  const bool complete =
      read_first_line(child.stdout_fd, std::chrono::steady_clock::now() + std::chrono::seconds(30), line);
  ::close(child.stdout_fd);
  if (!complete || line.rfind("listening ", 0) != 0)
    throw std::runtime_error("@tus/server did not start (is tests/peers installed? run scripts/setup): '" +
                             line + "'");
  server->port_ = static_cast<std::uint16_t>(std::stoi(line.substr(10)));
  return server;
}

TusServerProcess::~TusServerProcess() { stop_child(pid_); }

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
