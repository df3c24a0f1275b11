// UploadHandler: the server side of Resumable Uploads for HTTP (interop 3..9): creation by
// POST /uploads or PUT/POST /files/<path> (104 with Location before the body), offset
// retrieval (HEAD; GET from 9), append (PATCH), cancellation (DELETE) and OPTIONS discovery,
// with Upload-Limit enforced. Offsets it reports are only what the UploadStore synced and
// recorded; one request at a time writes into an upload (a second append gets 409).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "testserver/app/blocking_pool.h"
#include "testserver/app/fault_engine.h"
#include "testserver/app/upload_store.h"
#include "testserver/exchange.h"

namespace xts {

class UploadHandler : public std::enable_shared_from_this<UploadHandler> {
 public:
  UploadHandler(UploadStore& store, BlockingPool& pool, FaultEngine& faults)
      : store_(store), pool_(pool), faults_(faults) {}

  // dest: path under --root ("" = uploads/<id>).
  void create(const std::shared_ptr<Exchange>& ex, std::string dest, const FaultPlan& plan);
  // Requests to /uploads/<id>.
  void resource(const std::shared_ptr<Exchange>& ex, const std::string& id, const FaultPlan& plan);
  // OPTIONS discovery (Upload-Limit with the server's limits).
  void options(const std::shared_ptr<Exchange>& ex);

  UploadLimits default_limits() const;
  void set_default_limits(const UploadLimits& limits);

  // Removes expired uploads (on the pool; ex only receives the empty completion).
  void expire_now(boost::asio::any_io_executor ex, std::function<void(std::size_t)> done = {});

 private:
  friend struct BodyJob;
  void retrieve(const std::shared_ptr<Exchange>& ex, const std::shared_ptr<Upload>& u,
                const FaultPlan& plan);
  void append(const std::shared_ptr<Exchange>& ex, const std::shared_ptr<Upload>& u);
  void cancel(const std::shared_ptr<Exchange>& ex, const std::shared_ptr<Upload>& u);
  // Runs fn now if the upload is not being persisted, else once it is idle again. With
  // `supersede` (offset retrieval, append), a request still writing into the upload is ended
  // first (draft: "terminate previous requests to enable quick resumption") and fn runs once
  // what it delivered is stored.
  void when_settled(const std::shared_ptr<Exchange>& ex, const std::shared_ptr<Upload>& u,
                    std::function<void()> fn, bool supersede = false);
  void release(const std::shared_ptr<Upload>& u);

  UploadStore& store_;
  BlockingPool& pool_;
  FaultEngine& faults_;
  mutable std::mutex limits_mutex_;
  UploadLimits defaults_;
};

}  // namespace xts
