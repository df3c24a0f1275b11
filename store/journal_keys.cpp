#include "store/journal_keys.h"

#include <fmt/format.h>

#include "store/byte_codec.h"

namespace xfer::store::keys {
namespace {

constexpr std::size_t kUnfinishedSize = 2 + 4 + 8 + 8;

// Flipping the sign bit maps signed order onto unsigned order.
std::uint32_t ordered(std::int32_t v) { return static_cast<std::uint32_t>(v) ^ 0x80000000u; }
std::uint64_t ordered(std::int64_t v) { return static_cast<std::uint64_t>(v) ^ (1ull << 63); }

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace

std::string transfer(TransferId id) {
  std::string key(kTransferPrefix);
  put_be64(key, id);
  return key;
}

std::string unfinished(const TransferRecord& record) {
  std::string key(kUnfinishedPrefix);
  put_be32(key, ~ordered(record.priority));  // inverted: higher priority sorts first
  put_be64(key, ordered(record.created_at));
  put_be64(key, record.id);
  return key;
}

std::string upload(TransferId id) {
  std::string key(kUploadPrefix);
  put_be64(key, id);
  return key;
}

std::string segment(TransferId id, std::uint32_t index) {
  std::string key = segment_prefix(id);
  put_be32(key, index);
  return key;
}

std::string segment_prefix(TransferId id) {
  std::string key(kSegmentPrefix);
  put_be64(key, id);
  return key;
}

std::string origin(std::string_view origin) {
  std::string key(kOriginPrefix);
  key.append(origin);
  return key;
}

std::string event(std::uint64_t seq) {
  std::string key(kEventPrefix);
  put_be64(key, seq);
  return key;
}

std::optional<TransferId> transfer_id_of(std::string_view key) {
  if (key.size() != 2 + 8 || !starts_with(key, kTransferPrefix)) return std::nullopt;
  return get_be64(key.substr(2));
}

std::optional<TransferId> transfer_id_of_unfinished(std::string_view key) {
  if (key.size() != kUnfinishedSize || !starts_with(key, kUnfinishedPrefix)) return std::nullopt;
  return get_be64(key.substr(kUnfinishedSize - 8));
}

std::optional<std::uint64_t> seq_of_event(std::string_view key) {
  if (key.size() != 2 + 8 || !starts_with(key, kEventPrefix)) return std::nullopt;
  return get_be64(key.substr(2));
}

std::string describe(std::string_view key) {
  if (auto id = transfer_id_of(key)) return fmt::format("t/{}", *id);
  if (auto seq = seq_of_event(key)) return fmt::format("e/{}", *seq);
  if (key.size() == 2 + 8 && starts_with(key, kUploadPrefix))
    return fmt::format("r/{}", get_be64(key.substr(2)));
  if (key.size() == 2 + 8 + 4 && starts_with(key, kSegmentPrefix))
    return fmt::format("s/{}/{}", get_be64(key.substr(2)), get_be32(key.substr(10)));
  if (key.size() == kUnfinishedSize && starts_with(key, kUnfinishedPrefix))
    return fmt::format("u/{}/{}/{}", static_cast<std::int32_t>(~get_be32(key.substr(2)) ^ 0x80000000u),
                       static_cast<std::int64_t>(get_be64(key.substr(6)) ^ (1ull << 63)), get_be64(key.substr(14)));
  if (starts_with(key, kOriginPrefix) || starts_with(key, "m/")) return std::string(key);
  if (key.size() >= 2 && key[1] == '/') return fmt::format("{}{}", key.substr(0, 2), hex(key.substr(2)));
  return hex(key);
}

}  // namespace xfer::store::keys
