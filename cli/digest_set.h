// DigestSet: which keys were seen already, and on which manifest line, at 12 bytes a slot (a
// 64-bit hash of the key and the line) instead of the key itself. This is what lets `xfer
// batch` deduplicate a manifest of any length in bounded memory: 100,000 entries cost about
// 1.5 MiB. Two keys are taken for one only if their 64-bit hashes collide (odds about 3 in
// 10^10 for a whole manifest of 100,000), and even then the line is reported, never dropped
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
  void grow();

  // Parallel arrays, not a struct: no padding. lines_[i] == 0 marks an empty slot.
  std::vector<std::uint64_t> hashes_;
  std::vector<std::uint32_t> lines_;
  std::size_t size_ = 0;
};

}  // namespace xfer::cli
