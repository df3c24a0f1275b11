#include "cli/digest_set.h"

#include <functional>
#include <string>

namespace xfer::cli {

void DigestSet::grow() {
  std::vector<std::uint64_t> old_hashes = std::move(hashes_);
  std::vector<std::uint32_t> old_lines = std::move(lines_);
  const std::size_t capacity = old_lines.empty() ? 1024 : old_lines.size() * 2;
  hashes_.assign(capacity, 0);
  lines_.assign(capacity, 0);
  const std::size_t mask = capacity - 1;
  for (std::size_t j = 0; j < old_lines.size(); ++j) {
    if (old_lines[j] == 0) continue;
    std::size_t i = old_hashes[j] & mask;
    while (lines_[i] != 0) i = (i + 1) & mask;
    hashes_[i] = old_hashes[j];
    lines_[i] = old_lines[j];
  }
}

std::optional<std::uint32_t> DigestSet::insert(std::string_view key, std::uint32_t line) {
  // At most 80 % full: linear probing over 64-bit hashes stays short, and memory stays small.
  if ((size_ + 1) * 10 > lines_.size() * 8) grow();
  const std::uint64_t hash = std::hash<std::string_view>{}(key);
  const std::size_t mask = lines_.size() - 1;
  std::size_t i = hash & mask;
  while (lines_[i] != 0) {
    if (hashes_[i] == hash) return lines_[i];
    i = (i + 1) & mask;
  }
  hashes_[i] = hash;
  lines_[i] = line == 0 ? 1 : line;
  ++size_;
  return std::nullopt;
}

}  // namespace xfer::cli
