// DigestSet: which keys were seen already, and on which manifest line, at 24 bytes a slot
// (two independent 64-bit hashes of the key and the line) instead of the key itself. This is
// what lets `xfer batch` deduplicate a manifest of any length in bounded memory: 100,000
// entries cost about 4 MiB. Two different keys are taken for one only if both 64-bit hashes
// collide (odds around 2^-100 per pair), and even then the line is reported, never dropped
// silently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace xfer::cli {

class DigestSet {
 public:
  // The line `key` was first seen on, or nullopt after recording it at `line` (line >= 1).
  std::optional<std::uint32_t> insert(std::string_view key, std::uint32_t line);
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t a = 0, b = 0;
    std::uint32_t line = 0;  // 0: empty
  };
  void grow();

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace xfer::cli
