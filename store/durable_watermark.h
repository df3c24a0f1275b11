// DurableWatermark: `<journal>/xfer.watermark`, the number of the last commit the journal
// reported durable, kept outside leveldb so that leveldb losing its log cannot also lose it.
//
// Every commit group writes its number into the database (key m/commits, in the same
// WriteBatch). After a synced group's fsync has returned, its number is written here with a
// plain pwrite() — no fsync of its own, so a synced commit still costs one fsync. On open the
// journal compares: a database whose newest commit number is below the watermark has lost
// data it once reported durable, and is refused (docs/journal.md, "Damage").
//
// Why no fsync is needed: the value is written only after the data it vouches for is on
// stable storage. A crash or power cut can only leave an *older* value (the pwrite did not
// reach the disk), never a newer one, so the check can miss a loss of the last few commits
// after a power cut but never raises a false alarm. After SIGKILL (the common case: the
// page cache survives the process) the value is exact.
//
// Format: two 512-byte slots (offsets 0 and 512, separate sectors), each
// ["xfer-wm1"][u64 commit LE][u32 crc32c of the 16 bytes before][zeros]; commit N goes to slot
// N % 2. A torn write can damage only the slot being written, and the other one still holds
// an older valid value; the reader takes the valid slot with the higher number.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <xfer/error.h>

namespace xfer::store {

class DurableWatermark {
 public:
  static constexpr const char* kFileName = "xfer.watermark";

  // The value in `directory`'s file; nullopt if there is no file. A file in which neither
  // slot is valid is a Journal error.
  static Result<std::optional<std::uint64_t>> read(const std::string& directory);
  // Opens the file for advancing; creates it holding `value` (synced, with its directory
  // entry) if it does not exist.
  static Result<std::unique_ptr<DurableWatermark>> open(const std::string& directory, std::uint64_t value);
  ~DurableWatermark();
  DurableWatermark(const DurableWatermark&) = delete;
  DurableWatermark& operator=(const DurableWatermark&) = delete;

  // Records `commit` (larger than the current value). Not synced. A failed write leaves the
  // older value, which is safe; it is not an error of the commit, which is already durable.
  void advance(std::uint64_t commit);
  std::uint64_t value() const { return value_; }

 private:
  DurableWatermark(int fd, std::uint64_t value) : fd_(fd), value_(value) {}
  int fd_;
  std::uint64_t value_;
};

}  // namespace xfer::store
