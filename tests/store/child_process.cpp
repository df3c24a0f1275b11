#include "tests/store/child_process.h"

#include <cerrno>
#include <csignal>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace xfer::test {

ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  out_fd_ = fds[0];
  if (rc != 0) {
    ::close(out_fd_);
    throw std::runtime_error("posix_spawn " + argv[0] + " failed");
  }
}

ChildProcess::~ChildProcess() {
  if (!reaped_) kill_and_drain();
  if (out_fd_ >= 0) ::close(out_fd_);
}

std::string ChildProcess::read_some(std::chrono::milliseconds timeout) {
  pollfd p{out_fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
  char buf[8192];
  const ssize_t n = ::read(out_fd_, buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

std::string ChildProcess::read_until(const std::string& text, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out;
  while (out.find(text) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    std::string chunk = read_some(left);
    if (chunk.empty()) {
      int status = 0;
      if (exited(&status)) break;
      continue;
    }
    out += chunk;
  }
  return out;
}

bool ChildProcess::exited(int* status) {
  if (!reaped_) {
    const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
    if (r == pid_) reaped_ = true;
  }
  if (reaped_ && status) *status = status_;
  return reaped_;
}

std::string ChildProcess::kill_and_drain() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  std::string out;
  // The child is gone, so the pipe ends at the last byte it wrote.
  for (;;) {
    char buf[8192];
    const ssize_t n = ::read(out_fd_, buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  return out;
}

}  // namespace xfer::test
