#include "tests/support/testserver_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/support/child_process.h"

#ifndef XFER_TESTSERVER_PATH
#error "XFER_TESTSERVER_PATH must name the xfer-testserver binary"
#endif

namespace xfer::test {

namespace {

std::string listen_arg(std::optional<std::uint16_t> port) {
  return fmt::format("127.0.0.1:{}", port.value_or(0));
}

}  // namespace

TestServerProcess::TestServerProcess(TestServerOptions options) : options_(std::move(options)) {}

std::unique_ptr<TestServerProcess> TestServerProcess::start(const TestServerOptions& options) {
  if (options.root.empty() || options.data.empty()) throw std::runtime_error("TestServerProcess: root and data are required");
  std::unique_ptr<TestServerProcess> server(new TestServerProcess(options));
  std::filesystem::create_directories(options.root);
  std::filesystem::create_directories(options.data);
  server->launch(std::nullopt, std::nullopt);
  return server;
}

std::unique_ptr<TestServerProcess> TestServerProcess::start_relay(std::uint16_t target_port,
                                                                 std::vector<std::string> extra_args,
                                                                 std::filesystem::path log_file) {
  TestServerOptions options;
  options.relay = fmt::format("127.0.0.1:0=127.0.0.1:{}", target_port);
  options.extra_args = std::move(extra_args);
  options.log_file = std::move(log_file);
  options.tls = options.plain = false;
  std::unique_ptr<TestServerProcess> relay(new TestServerProcess(options));
  relay->launch(std::nullopt, std::nullopt);
  return relay;
}

TestServerProcess::~TestServerProcess() {
  try {
    stop();
  } catch (...) {
  }
}

void TestServerProcess::launch(std::optional<std::uint16_t> tls_port,
                               std::optional<std::uint16_t> plain_port) {
  const char* override_binary = std::getenv("XFER_TESTSERVER_BINARY");
  std::vector<std::string> args{override_binary != nullptr ? override_binary : XFER_TESTSERVER_PATH};
  if (options_.relay.empty()) {
    args.insert(args.end(), {"--root", options_.root.string(), "--data", options_.data.string()});
  } else {
    args.insert(args.end(), {"--udp-relay", options_.relay});
  }
  if (options_.tls && options_.relay.empty()) {
    args.insert(args.end(), {"--listen", listen_arg(tls_port), "--self-signed"});
  }
  if (options_.plain && options_.relay.empty()) args.insert(args.end(), {"--listen-plain", listen_arg(plain_port)});
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  args.insert(args.begin(), options_.wrapper.begin(), options_.wrapper.end());

  int log_fd = -1;
  if (!options_.log_file.empty()) {
    log_fd = ::open(options_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::runtime_error("cannot open " + options_.log_file.string());
  }
  const auto child = spawn_with_stdout_pipe(args, log_fd);
  if (log_fd >= 0) ::close(log_fd);
  pid_ = child.pid;
  stdout_fd_ = child.stdout_fd;

  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
  if (!read_first_line(stdout_fd_, deadline, line)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill_hard();
      throw std::runtime_error("xfer-testserver: no ready line within the timeout");
    }
    const int status = reap(std::chrono::seconds(2));
    throw std::runtime_error(fmt::format("xfer-testserver exited before it was ready (status {})", status));
  }
  ready_line_ = line;
  const auto ready = nlohmann::json::parse(ready_line_, nullptr, false);
  if (ready.is_discarded() || !ready.value("ready", false)) {
    kill_hard();
    throw std::runtime_error("xfer-testserver: bad ready line: " + ready_line_);
  }
  tls_port_ = ready.contains("tls_port") && ready["tls_port"].is_number() ? ready["tls_port"].get<std::uint16_t>() : 0;
  plain_port_ = ready.contains("plain_port") && ready["plain_port"].is_number() ? ready["plain_port"].get<std::uint16_t>() : 0;
  h3_port_ = ready.contains("h3_port") && ready["h3_port"].is_number() ? ready["h3_port"].get<std::uint16_t>() : 0;
  relay_port_ = ready.contains("relay_port") && ready["relay_port"].is_number() ? ready["relay_port"].get<std::uint16_t>() : 0;
  cert_ = ready.contains("cert") && ready["cert"].is_string() ? std::filesystem::path(ready["cert"].get<std::string>()) : std::filesystem::path();
}

bool TestServerProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  pid_ = -1;
  return false;
}

std::string TestServerProcess::https_origin() const { return fmt::format("https://127.0.0.1:{}", tls_port_); }
std::string TestServerProcess::http_origin() const { return fmt::format("http://127.0.0.1:{}", plain_port_); }

int TestServerProcess::reap(std::chrono::milliseconds wait) {
  if (pid_ <= 0) return 0;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (r < 0) {
      status = 0;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdout_fd_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return 0;
}

int TestServerProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return 0;
  ::kill(pid_, SIGTERM);
  return reap(grace);
}

void TestServerProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap(std::chrono::seconds(10));
}

void TestServerProcess::restart(bool same_ports) {
  stop();
  if (same_ports) {
    launch(options_.tls ? std::optional<std::uint16_t>(tls_port_) : std::nullopt,
           options_.plain ? std::optional<std::uint16_t>(plain_port_) : std::nullopt);
  } else {
    launch(std::nullopt, std::nullopt);
  }
}

}  // namespace xfer::test
