#include "protocols/http/structured_fields.h"

#include <fmt/format.h>

#include "protocols/http/base64.h"

namespace xfer::protocols::sf {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lcalpha(char c) { return c >= 'a' && c <= 'z'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_tchar(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (is_digit(c)) return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Follows RFC 9651 §4.2 step by step; every method returns false on a parse failure.
class Parser {
 public:
  explicit Parser(std::string_view input) : in_(input) {}

  bool empty() const { return pos_ >= in_.size(); }
  char peek() const { return empty() ? '\0' : in_[pos_]; }

  void skip_sp() {
    while (!empty() && in_[pos_] == ' ') ++pos_;
  }
  void skip_ows() {
    while (!empty() && (in_[pos_] == ' ' || in_[pos_] == '\t')) ++pos_;
  }

  bool key(std::string& out) {
    if (!(is_lcalpha(peek()) || peek() == '*')) return false;
    out.clear();
    while (!empty()) {
      const char c = peek();
      if (!(is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == '*')) break;
      out.push_back(c);
      ++pos_;
    }
    return true;
  }

  bool parameters(Parameters& params) {
    while (peek() == ';') {
      ++pos_;
      skip_sp();
      std::string name;
      if (!key(name)) return false;
      BareItem value = true;
      if (peek() == '=') {
        ++pos_;
        if (!bare_item(value)) return false;
      }
      if (!put(params, std::move(name), std::move(value))) return false;
    }
    return true;
  }

  bool item(Item& out) {
    if (!bare_item(out.value)) return false;
    return parameters(out.params);
  }

  bool item_or_inner_list(ListMember& out) {
    if (peek() == '(') {
      InnerList inner;
      if (!inner_list(inner)) return false;
      out = std::move(inner);
      return true;
    }
    Item it;
    if (!item(it)) return false;
    out = std::move(it);
    return true;
  }

  bool inner_list(InnerList& out) {
    ++pos_;  // '('
    while (!empty()) {
      skip_sp();
      if (peek() == ')') {
        ++pos_;
        return parameters(out.params);
      }
      Item it;
      if (!item(it)) return false;
      if (out.items.size() >= kMaxMembers) return false;
      out.items.push_back(std::move(it));
      if (peek() != ' ' && peek() != ')') return false;
    }
    return false;  // no closing parenthesis
  }

  bool list(List& out) {
    while (!empty()) {
      ListMember member;
      if (!item_or_inner_list(member)) return false;
      if (out.size() >= kMaxMembers) return false;
      out.push_back(std::move(member));
      skip_ows();
      if (empty()) return true;
      if (peek() != ',') return false;
      ++pos_;
      skip_ows();
      if (empty()) return false;  // trailing comma
    }
    return true;
  }

  bool dictionary(Dictionary& out) {
    while (!empty()) {
      std::string name;
      if (!key(name)) return false;
      ListMember member;
      if (peek() == '=') {
        ++pos_;
        if (!item_or_inner_list(member)) return false;
      } else {
        Item it{true, {}};
        if (!parameters(it.params)) return false;
        member = std::move(it);
      }
      if (!put(out, std::move(name), std::move(member))) return false;
      skip_ows();
      if (empty()) return true;
      if (peek() != ',') return false;
      ++pos_;
      skip_ows();
      if (empty()) return false;
    }
    return true;
  }

  bool bare_item(BareItem& out) {
    const char c = peek();
    if (c == '-' || is_digit(c)) return number(out);
    if (c == '"') return string(out);
    if (is_alpha(c) || c == '*') return token(out);
    if (c == ':') return byte_sequence(out);
    if (c == '?') return boolean(out);
    if (c == '@') return date(out);
    return false;  // includes '%' (Display String, unsupported) and end of input
  }

 private:
  template <typename Map, typename Value>
  static bool put(Map& map, std::string name, Value value) {
    for (auto& [k, v] : map) {
      if (k == name) {
        v = std::move(value);
        return true;
      }
    }
    if (map.size() >= kMaxMembers) return false;
    map.emplace_back(std::move(name), std::move(value));
    return true;
  }

  bool number(BareItem& out) {
    bool negative = false;
    if (peek() == '-') {
      negative = true;
      ++pos_;
    }
    if (!is_digit(peek())) return false;
    std::int64_t integer_part = 0;
    std::int64_t fraction = 0;
    std::size_t int_digits = 0;
    std::size_t frac_digits = 0;
    bool decimal = false;
    while (!empty()) {
      const char c = peek();
      if (is_digit(c)) {
        if (decimal) {
          if (++frac_digits > 3) return false;
          fraction = fraction * 10 + (c - '0');
        } else {
          if (++int_digits > 15) return false;
          integer_part = integer_part * 10 + (c - '0');
        }
        ++pos_;
      } else if (c == '.' && !decimal) {
        if (int_digits > 12) return false;
        decimal = true;
        ++pos_;
      } else {
        break;
      }
    }
    if (!decimal) {
      out = negative ? -integer_part : integer_part;
      return true;
    }
    if (frac_digits == 0) return false;
    for (std::size_t i = frac_digits; i < 3; ++i) fraction *= 10;
    const std::int64_t thousandths = integer_part * 1000 + fraction;
    out = Decimal{negative ? -thousandths : thousandths};
    return true;
  }

  bool string(BareItem& out) {
    ++pos_;  // '"'
    std::string value;
    while (!empty()) {
      const char c = in_[pos_++];
      if (c == '\\') {
        if (empty()) return false;
        const char next = in_[pos_++];
        if (next != '"' && next != '\\') return false;
        value.push_back(next);
      } else if (c == '"') {
        out = std::move(value);
        return true;
      } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
        return false;
      } else {
        value.push_back(c);
      }
    }
    return false;
  }

  bool token(BareItem& out) {
    std::string value;
    while (!empty()) {
      const char c = peek();
      if (!(is_tchar(c) || c == ':' || c == '/')) break;
      value.push_back(c);
      ++pos_;
    }
    out = Token{std::move(value)};
    return true;
  }

  bool byte_sequence(BareItem& out) {
    ++pos_;  // ':'
    const std::size_t end = in_.find(':', pos_);
    if (end == std::string_view::npos) return false;
    const std::string_view content = in_.substr(pos_, end - pos_);
    pos_ = end + 1;
    // Padding is optional and non-zero pad bits are tolerated (RFC 9651 §4.2.7), but '=' may
    // only end the content and a lone trailing sextet is impossible.
    std::size_t data_len = content.size();
    while (data_len > 0 && content[data_len - 1] == '=') --data_len;
    if (content.size() - data_len > 2) return false;
    if (content.size() != data_len && content.size() % 4 != 0) return false;
    if (data_len % 4 == 1) return false;
    std::vector<std::uint8_t> bytes;
    bytes.reserve(data_len * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < data_len; ++i) {
      const int v = base64_value(content[i]);
      if (v < 0) return false;
      acc = (acc << 6) | static_cast<std::uint32_t>(v);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
      }
    }
    out = ByteSequence{std::move(bytes)};
    return true;
  }

  bool boolean(BareItem& out) {
    ++pos_;  // '?'
    const char c = peek();
    if (c != '0' && c != '1') return false;
    ++pos_;
    out = (c == '1');
    return true;
  }

  bool date(BareItem& out) {
    ++pos_;  // '@'
    BareItem number_item;
    if (!number(number_item)) return false;
    const auto* seconds = std::get_if<std::int64_t>(&number_item);
    if (seconds == nullptr) return false;
    out = Date{*seconds};
    return true;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

std::optional<std::string_view> trim_field(std::string_view field) {
  if (field.size() > kMaxFieldLength) return std::nullopt;
  while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
  while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
  return field;
}

}  // namespace

std::optional<Item> parse_item(std::string_view field) {
  const auto trimmed = trim_field(field);
  if (!trimmed) return std::nullopt;
  Parser parser(*trimmed);
  Item item;
  if (!parser.item(item) || !parser.empty()) return std::nullopt;
  return item;
}

std::optional<List> parse_list(std::string_view field) {
  const auto trimmed = trim_field(field);
  if (!trimmed) return std::nullopt;
  Parser parser(*trimmed);
  List list;
  if (!parser.list(list) || !parser.empty()) return std::nullopt;
  return list;
}

std::optional<Dictionary> parse_dictionary(std::string_view field) {
  const auto trimmed = trim_field(field);
  if (!trimmed) return std::nullopt;
  Parser parser(*trimmed);
  Dictionary dict;
  if (!parser.dictionary(dict) || !parser.empty()) return std::nullopt;
  return dict;
}

const ListMember* find(const Dictionary& dict, std::string_view key) {
  for (const auto& [k, v] : dict) {
    if (k == key) return &v;
  }
  return nullptr;
}

const BareItem* find(const Parameters& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool is_valid_key(std::string_view key) {
  if (key.empty() || !(is_lcalpha(key.front()) || key.front() == '*')) return false;
  for (const char c : key) {
    if (!(is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == '*')) {
      return false;
    }
  }
  return true;
}

std::string serialize_boolean(bool value) { return value ? "?1" : "?0"; }

std::string serialize_byte_sequence(std::span<const std::uint8_t> bytes) {
  return ":" + base64_encode(bytes) + ":";
}

std::optional<std::string> serialize_integer(std::int64_t value) {
  if (value > kMaxInteger || value < -kMaxInteger) return std::nullopt;
  return fmt::format("{}", value);
}

std::optional<std::string> serialize_integer_dictionary(
    const std::vector<std::pair<std::string, std::int64_t>>& members) {
  std::string out;
  for (const auto& [key, value] : members) {
    if (!is_valid_key(key)) return std::nullopt;
    const auto number = serialize_integer(value);
    if (!number) return std::nullopt;
    if (!out.empty()) out += ", ";
    out += key;
    out += '=';
    out += *number;
  }
  return out;
}

}  // namespace xfer::protocols::sf
