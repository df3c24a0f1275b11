// HashAhead: hashes a transfer's file prefix on the blocking pool while the transfer runs, one
// job at a time, apart from the task's persist chain, so hashing neither waits behind a
// checkpoint's fdatasync nor delays the next checkpoint, and the finalize (which hashes what
// is left, through the same PrefixDigest) has little to do. Downloads offer their contiguous
// written prefix, uploads the prefix they have read for sending. Only a head start: a job that
// fails (a restart truncated the file under it, a read error) discards the digest, and the
// finalize hashes from byte 0 and meets any real error.
// Used on the loop thread.
#pragma once

#include <cstdint>
#include <memory>

#include "transfer/engine/blocking_pool.h"
#include "transfer/files/file_system.h"
#include "transfer/files/prefix_digest.h"

namespace xfer::engine {

class HashAhead {
 public:
  // A job starts once this much is waiting (smaller files are left to the finalize); each job
  // hashes at most kAtMost, so a resumed transfer's old prefix does not hold a pool thread long.
  static constexpr std::uint64_t kAtLeast = 8ull << 20;
  static constexpr std::uint64_t kAtMost = 64ull << 20;

  // Offers [digest->hashed(), prefix) of `file`; called as the prefix grows (each write or
  // read), so what grew while a job ran goes with the next offer after it ended.
  void offer(BlockingPool& pool, const std::shared_ptr<files::File>& file,
             const std::shared_ptr<files::PrefixDigest>& digest, std::uint64_t prefix,
             const files::DigestExpectations& wanted);

 private:
  // Shared with the job's completion, which may come after the owner is gone.
  std::shared_ptr<bool> running_ = std::make_shared<bool>(false);
};

}  // namespace xfer::engine
