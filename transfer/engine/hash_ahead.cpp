#include "transfer/engine/hash_ahead.h"

#include <algorithm>

namespace xfer::engine {

void HashAhead::offer(BlockingPool& pool, const std::shared_ptr<files::File>& file,
                      const std::shared_ptr<files::PrefixDigest>& digest, std::uint64_t prefix,
                      const files::DigestExpectations& wanted) {
  // running_ first: hashed() would wait for a running job, on the loop thread.
  if (*running_ || !file || !digest || wanted.empty()) return;
  const std::uint64_t from = digest->hashed();
  if (prefix < from + kAtLeast) return;
  const std::uint64_t upto = std::min(prefix, from + kAtMost);
  *running_ = true;
  pool.run(
      [file, digest, upto, wanted] {
        if (auto r = digest->advance(*file, upto, wanted); !r) digest->discard();
        return true;
      },
      [running = running_](bool) { *running = false; });
}

}  // namespace xfer::engine
