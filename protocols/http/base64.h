// Base64 with the standard alphabet and padding (RFC 4648 §4): the encoding inside sf byte
// sequences (RFC 9651), tus Upload-Metadata values and tus Upload-Checksum.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace xfer::protocols {

std::string base64_encode(std::span<const std::uint8_t> bytes);

inline std::string base64_encode(std::string_view text) {
  return base64_encode(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace xfer::protocols
