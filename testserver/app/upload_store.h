// UploadStore: durable state of resumable uploads. Records live in leveldb under
// <data>/uploads.db (key "upload/<id>", JSON value: our own schema), body bytes in
// <data>/parts/<id>.part. Promise: a record's offset never exceeds what was fdatasync'ed to its
// part file — callers sync first, then record. On open, part files are cut back to the
// recorded offset, completed uploads whose move was interrupted are finished, expired uploads
// and orphaned part files are removed.
//
// The blocking calls (sync_offset, finish, remove) are meant for the BlockingPool; the
// in-memory Upload fields besides the record are owned by the handler that holds the upload.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "testserver/app/path_guard.h"
#include "testserver/exchange.h"

namespace leveldb {
class DB;
}

namespace xts {

// Why a blocking step failed: the errno behind it, so a full disk (ENOSPC, EDQUOT) can be
// answered 507 instead of 500, and a short text for the problem body.
struct StoreError {
  int sys_errno = 0;
  std::string what;
  bool no_space() const;
};
using StoreResult = std::expected<void, StoreError>;

struct UploadLimits {
  std::uint64_t max_size = 1ull << 40;
  std::uint64_t min_size = 0;
  std::optional<std::uint64_t> max_append_size;
  std::optional<std::uint64_t> min_append_size;
  std::uint64_t max_age = 86400;  // seconds
};

struct UploadRecord {
  std::string id;
  int version = 9;   // interop version the upload was created with
  std::string dest;  // path relative to --root
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> length;
  bool complete = false;
  UploadLimits limits;
  std::int64_t created = 0;  // unix seconds
  std::int64_t expires = 0;  // unix seconds
};

struct Upload {
  enum class State { kIdle, kReceiving, kPersisting };
  UploadRecord rec;  // guarded by UploadStore's mutex
  int fd = -1;
  State state = State::kIdle;
  bool gone = false;                          // cancelled or expired
  std::weak_ptr<Exchange> active;             // the request writing into it
  std::vector<std::function<void()>> waiters;  // run when it becomes idle again
};

class UploadStore {
 public:
  static std::expected<std::unique_ptr<UploadStore>, std::string> open(const std::string& data_dir,
                                                                       const PathGuard& root);
  ~UploadStore();

  std::string new_id() const;  // 128 random bits, hex
  std::shared_ptr<Upload> find(const std::string& id);
  // Creates the record and an empty part file (blocking: sync write).
  std::expected<std::shared_ptr<Upload>, StoreError> create(UploadRecord rec);

  // Blocking: fdatasync the part file, then record offset.
  StoreResult sync_offset(Upload& u, std::uint64_t offset);
  // Blocking: cut the part file back to offset and record it (lag-offset, failed appends).
  StoreResult truncate_to(Upload& u, std::uint64_t offset);
  // Blocking: sync, mark complete, move the part file to --root/dest atomically (fsync file,
  // rename, fsync dir).
  StoreResult finish(Upload& u, std::uint64_t final_size);
  // Blocking: deletes part file and record.
  void remove(Upload& u);
  // Writes to the part file at offset (the data is not durable until sync_offset).
  StoreResult write(Upload& u, std::uint64_t offset, const std::uint8_t* data, std::size_t n);

  // Removes expired uploads that are idle; returns how many.
  std::size_t expire(std::int64_t now);

  std::mutex& mutex() { return mutex_; }

 private:
  UploadStore(std::string data_dir, const PathGuard& root) : data_(std::move(data_dir)), root_(root) {}
  std::string part_path(const std::string& id) const;
  StoreResult put(const UploadRecord& rec);
  void erase_record(const std::string& id);
  StoreResult ensure_fd(Upload& u);
  StoreResult move_into_root(const std::string& part, const std::string& dest);
  void recover();

  std::string data_;
  PathGuard root_;
  leveldb::DB* db_ = nullptr;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Upload>> uploads_;
};

}  // namespace xts
