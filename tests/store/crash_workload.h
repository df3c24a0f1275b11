// The journal workload of the crash and power-loss tests, and the checker run after recovery.
// Writer threads create transfers (record + 3 segments in one batch), checkpoint segments,
// complete transfers (record + final segments + outbox event in one batch), update records
// without sync, and forget completed transfers (ack event + erase in one batch). Every
// *synced* commit that returned success is reported as an acknowledgement line:
//   "T <id>" created, "C <id> <index> <offset>" checkpoint, "D <id>" completed, "X <id>" forgotten.
// verify_after_crash() checks what must hold after any crash: everything decodes, batches are
// all-or-nothing, the unfinished index agrees with the records, no acknowledged write is lost.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/journal.h"

namespace xfer::test {

using AckSink = std::function<void(const std::string& line)>;

// Runs `threads` writers until `stop` is set or a commit fails (a failed commit ends that
// writer: after a crash nothing more would have happened either).
void run_crash_workload(store::Journal& journal, int threads, std::uint64_t seed, const std::atomic<bool>& stop,
                        const AckSink& ack);

// Acknowledgements collected by the parent/test.
class AckLog {
 public:
  // Feeds raw bytes; complete lines are parsed, a trailing partial line waits for more.
  void feed(std::string_view bytes);
  void add_line(const std::string& line);
  std::size_t count() const { return count_; }

 private:
  friend std::vector<std::string> verify_after_crash(store::Journal& journal, const AckLog& acks);
  std::string partial_;
  std::size_t count_ = 0;
  std::set<TransferId> created_, completed_, forgotten_;
  std::map<std::pair<TransferId, std::uint32_t>, std::uint64_t> offsets_;
};

// Returns the violations found (empty when the journal is consistent with the acks).
std::vector<std::string> verify_after_crash(store::Journal& journal, const AckLog& acks);

}  // namespace xfer::test
