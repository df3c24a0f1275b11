// Running a program as a child with its stdout and stderr captured and a deadline: the real
// peers (curl, nghttp, node) the tests drive. Every child is waited for; none outlives its call.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace xfer::test {

struct ProcResult {
  int exit_code = -1;  // -1: killed by the deadline or a signal
  std::string out;
  std::string err;
};

// In a forked child: becomes argv[0] (searched in PATH), or exits 127.
[[noreturn]] inline void exec_in_child(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  ::_exit(127);
}

// Runs argv with stdout/stderr captured; kills it after `timeout`.
inline ProcResult run_process(const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    exec_in_child(argv);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ProcResult r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool out_open = true, err_open = true, killed = false;
  char buf[65536];
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    ::poll(fds, 2, killed ? 1000 : static_cast<int>(std::min<long>(left.count(), 1000)));
    for (int i = 0; i < 2; ++i) {
      bool& open = i == 0 ? out_open : err_open;
      if (!open || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const auto n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        open = false;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = (!killed && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return r;
}

// Waits for child `pid` to exit, at most `limit`; then SIGKILLs it (and reaps it). The raw
// waitpid status, for WIFEXITED / WEXITSTATUS; killed_by_limit says whether the limit struck.
inline int wait_for_exit(pid_t pid, std::chrono::milliseconds limit, bool* killed_by_limit = nullptr) {
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  pid_t done = 0;
  while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
    ::usleep(20'000);
  if (killed_by_limit) *killed_by_limit = done == 0;
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  return status;
}

// A child started with its stdout on a pipe the caller reads (its ready line), stdin from
// /dev/null and stderr to `stderr_fd` (inherited when -1). Throws when it cannot be started.
struct SpawnedChild {
  pid_t pid = -1;
  int stdout_fd = -1;
};

inline SpawnedChild spawn_with_stdout_pipe(const std::vector<std::string>& argv, int stderr_fd = -1) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(out[1], 1);
    if (stderr_fd >= 0) ::dup2(stderr_fd, 2);
    const int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    exec_in_child(argv);
  }
  ::close(out[1]);
  return {pid, out[0]};
}

// Reads `fd` up to the first newline (kept out of `line`). Returns false when the deadline
// passed or the writer closed first; `line` then holds what did arrive.
inline bool read_first_line(int fd, std::chrono::steady_clock::time_point deadline, std::string& line) {
  std::string got;
  while (got.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 200))) <= 0) continue;
    char buf[1024];
    const auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  const auto newline = got.find('\n');
  line = got.substr(0, newline);
  return newline != std::string::npos;
}

// Stops a child server: SIGTERM, up to two seconds to exit, then SIGKILL; always reaped.
inline void stop_child(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    ::usleep(20'000);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace xfer::test
