// DirectorySyncGroup: group commit for directory fsyncs. Many downloads finishing into one
// directory each need "my rename is durable"; one fsync of the directory that starts after a
// rename covers it, so callers arriving while an fsync runs wait for the next one and share
// it instead of queueing one fsync each (2,000 small files → a few dozen directory fsyncs).
//
// Promise: sync(dir, fsync_fn) returns only after an fsync_fn(dir) that began after the call
// began has finished, and returns that fsync's result. Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <xfer/error.h>

namespace xfer::files {

class DirectorySyncGroup {
 public:
  Result<void> sync(const std::string& dir, const std::function<Result<void>(const std::string&)>& fsync_dir);

 private:
  struct Round;
  std::mutex mutex_;
  std::condition_variable finished_;
  std::map<std::string, std::shared_ptr<Round>> rounds_;
};

}  // namespace xfer::files
