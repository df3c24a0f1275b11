// Structured Field Values for HTTP (RFC 9651): a strict parser and a small serializer.
// Parses Items (Integer, Decimal, String, Token, Byte Sequence, Boolean, Date) with Parameters,
// Lists (with Inner Lists) and Dictionaries, following the RFC's parsing algorithm exactly:
// any deviation (bad character, number too long, trailing garbage, empty member, bad base64)
// fails the whole field (nullopt) as §4.2 requires. Display Strings are not supported (rejected).
// Limits beyond the RFC keep hostile input cheap: a field longer than kMaxFieldLength or with
// more than kMaxMembers members/parameters is rejected.
// Dictionaries and Parameters keep first-seen order; a repeated key overwrites the earlier value
// in place (RFC 9651 §4.2.2 / §4.2.3.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace xfer::protocols::sf {

inline constexpr std::size_t kMaxFieldLength = 16 * 1024;
inline constexpr std::size_t kMaxMembers = 1024;
inline constexpr std::int64_t kMaxInteger = 999'999'999'999'999;

struct Token {
  std::string value;
  bool operator==(const Token&) const = default;
};
struct ByteSequence {
  std::vector<std::uint8_t> value;
  bool operator==(const ByteSequence&) const = default;
};
// Exact decimal in thousandths (SF decimals carry at most three fractional digits).
struct Decimal {
  std::int64_t thousandths = 0;
  double to_double() const { return static_cast<double>(thousandths) / 1000.0; }
  bool operator==(const Decimal&) const = default;
};
struct Date {
  std::int64_t unix_seconds = 0;
  bool operator==(const Date&) const = default;
};

using BareItem = std::variant<std::int64_t, Decimal, std::string, Token, ByteSequence, bool, Date>;
using Parameters = std::vector<std::pair<std::string, BareItem>>;

struct Item {
  BareItem value;
  Parameters params;
  bool operator==(const Item&) const = default;
};
struct InnerList {
  std::vector<Item> items;
  Parameters params;
  bool operator==(const InnerList&) const = default;
};
using ListMember = std::variant<Item, InnerList>;
using List = std::vector<ListMember>;
using Dictionary = std::vector<std::pair<std::string, ListMember>>;

std::optional<Item> parse_item(std::string_view field);
std::optional<List> parse_list(std::string_view field);
std::optional<Dictionary> parse_dictionary(std::string_view field);

// Lookups (nullptr when absent).
const ListMember* find(const Dictionary& dict, std::string_view key);
const BareItem* find(const Parameters& params, std::string_view key);
// The member's bare item when it is an Item (not an Inner List) of type T.
template <typename T>
const T* get_if_item(const ListMember* member) {
  if (member == nullptr) return nullptr;
  const auto* item = std::get_if<Item>(member);
  return item ? std::get_if<T>(&item->value) : nullptr;
}

// Serializers for the fields the upload client sends.
std::string serialize_boolean(bool value);                         // "?1" / "?0"
std::string serialize_byte_sequence(std::span<const std::uint8_t> bytes);  // ":<base64>:"
std::optional<std::string> serialize_integer(std::int64_t value);  // nullopt when out of range
// "key=1, other=2"; nullopt for an invalid key or an out-of-range value.
std::optional<std::string> serialize_integer_dictionary(
    const std::vector<std::pair<std::string, std::int64_t>>& members);
bool is_valid_key(std::string_view key);

}  // namespace xfer::protocols::sf
