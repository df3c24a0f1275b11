#include "cli/digest_set.h"

#include <functional>
#include <string>

namespace xfer::cli {
namespace {

std::uint64_t fnv1a(std::string_view key) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace

void DigestSet::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const auto& s : old) {
    if (s.line == 0) continue;
    std::size_t i = s.a & mask;
    while (slots_[i].line != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

std::optional<std::uint32_t> DigestSet::insert(std::string_view key, std::uint32_t line) {
  // At most 70 % full, so linear probing stays short.
  if ((size_ + 1) * 10 > slots_.size() * 7) grow();
  const std::uint64_t a = std::hash<std::string_view>{}(key);
  const std::uint64_t b = fnv1a(key);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = a & mask;
  while (slots_[i].line != 0) {
    if (slots_[i].a == a && slots_[i].b == b) return slots_[i].line;
    i = (i + 1) & mask;
  }
  slots_[i] = Slot{a, b, line == 0 ? 1 : line};
  ++size_;
  return std::nullopt;
}

}  // namespace xfer::cli
