// The journal's own single-process lock: an flock()ed "xfer.pid" file in the journal
// directory holding the owner's pid. leveldb's LOCK file already prevents two openers, but
// its error says nothing useful; this lock is taken first so a second opener (another
// process, or a second open in the same process) learns "journal <dir> in use by pid N".
// That error is the one retryable Journal error: a caller may wait for a short-lived holder.
// The lock dies with the process (flock), so a crashed owner never blocks a restart.
#pragma once

#include <memory>
#include <string>

#include <xfer/error.h>

namespace xfer::store {

class PidLock {
 public:
  static Result<std::unique_ptr<PidLock>> acquire(const std::string& directory);
  ~PidLock();
  PidLock(const PidLock&) = delete;
  PidLock& operator=(const PidLock&) = delete;

 private:
  explicit PidLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace xfer::store
