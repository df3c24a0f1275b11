// A child process with its stdout on a pipe, for the journal's multi-process tests. The
// destructor SIGKILLs and reaps the child if the test did not, so no child outlives a test.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

namespace xfer::test {

class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Reads what is available within `timeout` (returns "" on timeout, EOF or error).
  std::string read_some(std::chrono::milliseconds timeout);
  // Reads until the given text has arrived or the timeout passes; returns everything read.
  std::string read_until(const std::string& text, std::chrono::milliseconds timeout);
  // Whether the child has exited (without blocking); fills exit_status (waitpid form).
  bool exited(int* status);
  // SIGKILL + reap; returns the remaining buffered output.
  std::string kill_and_drain();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace xfer::test
