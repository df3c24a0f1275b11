// FileHandler: GET/HEAD /files/<path> from --root — strong ETag, Last-Modified, single Range,
// If-Range, 416, Repr-Digest on Want-Repr-Digest (cached per file version), streamed with
// large preads (no whole-file buffering). Applies the etag-change and corrupt faults.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "testserver/app/blocking_pool.h"
#include "testserver/app/fault_engine.h"
#include "testserver/app/path_guard.h"
#include "testserver/exchange.h"

namespace xts {

class FileHandler : public std::enable_shared_from_this<FileHandler> {
 public:
  FileHandler(PathGuard root, BlockingPool& pool, FaultEngine& faults)
      : root_(std::move(root)), pool_(pool), faults_(faults) {}

  void handle(const std::shared_ptr<Exchange>& ex, std::string_view rel, const FaultPlan& plan);

 private:
  struct Version;
  void serve(const std::shared_ptr<Exchange>& ex, int fd, const Version& v, const FaultPlan& plan,
             std::string digest);

  PathGuard root_;
  BlockingPool& pool_;
  FaultEngine& faults_;
  std::mutex digest_mutex_;
  std::unordered_map<std::string, std::string> digests_;  // "path\0etag" -> base64 sha-256
};

}  // namespace xts
