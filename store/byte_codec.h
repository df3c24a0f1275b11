// Fixed-width little-endian integers and length-prefixed strings: the building blocks of
// every journal value (store/record_codec.h), plus big-endian helpers for keys, whose byte
// order must sort like the numbers. A ByteReader never reads past its end: every get_*
// returns false instead, and the caller reports the record as corrupt.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace xfer::store {

class ByteWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { put_le(v, 2); }
  void u32(std::uint32_t v) { put_le(v, 4); }
  void u64(std::uint64_t v) { put_le(v, 8); }
  void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }
  void opt_u64(const std::optional<std::uint64_t>& v) {
    u8(v ? 1 : 0);
    u64(v.value_or(0));
  }

  std::string& bytes() { return out_; }

 private:
  void put_le(std::uint64_t v, int width) {
    for (int i = 0; i < width; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
  }
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  bool u8(std::uint8_t& v) {
    std::uint64_t x = 0;
    if (!get_le(x, 1)) return false;
    v = static_cast<std::uint8_t>(x);
    return true;
  }
  bool u16(std::uint16_t& v) {
    std::uint64_t x = 0;
    if (!get_le(x, 2)) return false;
    v = static_cast<std::uint16_t>(x);
    return true;
  }
  bool u32(std::uint32_t& v) {
    std::uint64_t x = 0;
    if (!get_le(x, 4)) return false;
    v = static_cast<std::uint32_t>(x);
    return true;
  }
  bool u64(std::uint64_t& v) { return get_le(v, 8); }
  bool i32(std::int32_t& v) {
    std::uint32_t x = 0;
    if (!u32(x)) return false;
    v = static_cast<std::int32_t>(x);
    return true;
  }
  bool i64(std::int64_t& v) {
    std::uint64_t x = 0;
    if (!u64(x)) return false;
    v = static_cast<std::int64_t>(x);
    return true;
  }
  bool str(std::string& s) {
    std::uint32_t n = 0;
    if (!u32(n) || n > in_.size() - pos_) return false;
    s.assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool opt_u64(std::optional<std::uint64_t>& v) {
    std::uint8_t present = 0;
    std::uint64_t x = 0;
    if (!u8(present) || !u64(x) || present > 1) return false;
    v = present ? std::optional<std::uint64_t>(x) : std::nullopt;
    return true;
  }

  bool at_end() const { return pos_ == in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  bool get_le(std::uint64_t& v, int width) {
    if (in_.size() - pos_ < static_cast<std::size_t>(width)) return false;
    v = 0;
    for (int i = 0; i < width; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
    pos_ += width;
    return true;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

// Big-endian, so that leveldb's bytewise key order is numeric order.
inline void put_be64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}
inline void put_be32(std::string& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}
inline std::uint64_t get_be64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}
inline std::uint32_t get_be32(std::string_view in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

}  // namespace xfer::store
