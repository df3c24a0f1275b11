// CRC32C (Castagnoli), the checksum over every journal value. A plain table-driven software
// version: journal values are small, so speed beyond "a few hundred MB/s" does not matter,
// and leveldb does not export its own. Promises: crc32c("123456789") == 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace xfer::store {

std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t seed = 0);

inline std::uint32_t crc32c(std::string_view bytes) { return crc32c(bytes.data(), bytes.size()); }

}  // namespace xfer::store
