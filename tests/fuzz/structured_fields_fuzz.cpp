// Fuzz target: RFC 9651 Structured Fields (protocols/http/structured_fields). The input is one
// field value, parsed as an Item, a List and a Dictionary. Beyond "no crash, no UB" it checks:
//  - whatever parses obeys the parser's promises (member limits, valid keys, value ranges,
//    token/string alphabets);
//  - serialize(parse(x)) parses back to the same value (the serializer here follows RFC 9651
//    §4.1; it is test code, so a parser bug cannot hide behind a matching serializer bug);
//  - a valid Item is also a valid one-member List;
//  - the library's own integer serializers round-trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "protocols/http/structured_fields.h"
#include "tests/fuzz/fuzz_support.h"

namespace sf = xfer::protocols::sf;

namespace {

bool is_tchar_or_token_extra(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~:/").find(c) != std::string_view::npos;
}

std::string base64(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  if (i + 1 == bytes.size()) {
    const std::uint32_t v = bytes[i] << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

void check_bare(const sf::BareItem& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    FUZZ_CHECK(*i >= -sf::kMaxInteger && *i <= sf::kMaxInteger);
  } else if (const auto* d = std::get_if<sf::Decimal>(&v)) {
    // at most 12 integer digits and 3 fractional ones
    FUZZ_CHECK(d->thousandths >= -999'999'999'999'999 && d->thousandths <= 999'999'999'999'999);
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    for (const char c : *s) FUZZ_CHECK(c >= 0x20 && c <= 0x7e);
  } else if (const auto* t = std::get_if<sf::Token>(&v)) {
    FUZZ_CHECK(!t->value.empty());
    const char first = t->value.front();
    FUZZ_CHECK((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || first == '*');
    for (const char c : t->value) FUZZ_CHECK(is_tchar_or_token_extra(c));
  } else if (const auto* date = std::get_if<sf::Date>(&v)) {
    FUZZ_CHECK(date->unix_seconds >= -sf::kMaxInteger && date->unix_seconds <= sf::kMaxInteger);
  }
}

void check_params(const sf::Parameters& params) {
  FUZZ_CHECK(params.size() <= sf::kMaxMembers);
  for (std::size_t i = 0; i < params.size(); ++i) {
    FUZZ_CHECK(sf::is_valid_key(params[i].first));
    for (std::size_t j = 0; j < i; ++j) FUZZ_CHECK(params[j].first != params[i].first);
    check_bare(params[i].second);
  }
}

void check_member(const sf::ListMember& m) {
  if (const auto* item = std::get_if<sf::Item>(&m)) {
    check_bare(item->value);
    check_params(item->params);
  } else {
    const auto& inner = std::get<sf::InnerList>(m);
    FUZZ_CHECK(inner.items.size() <= sf::kMaxMembers);
    for (const auto& item : inner.items) {
      check_bare(item.value);
      check_params(item.params);
    }
    check_params(inner.params);
  }
}

// RFC 9651 §4.1.
void put_bare(std::string& out, const sf::BareItem& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    out += std::to_string(*i);
  } else if (const auto* d = std::get_if<sf::Decimal>(&v)) {
    const std::int64_t t = d->thousandths;
    const std::uint64_t abs = t < 0 ? static_cast<std::uint64_t>(-t) : static_cast<std::uint64_t>(t);
    if (t < 0) out += '-';
    out += std::to_string(abs / 1000);
    out += '.';
    std::string frac = std::to_string(abs % 1000 + 1000).substr(1);  // three digits
    while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
    out += frac;
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    out += '"';
    for (const char c : *s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  } else if (const auto* t = std::get_if<sf::Token>(&v)) {
    out += t->value;
  } else if (const auto* b = std::get_if<sf::ByteSequence>(&v)) {
    out += ':';
    out += base64(b->value);
    out += ':';
  } else if (const auto* flag = std::get_if<bool>(&v)) {
    out += *flag ? "?1" : "?0";
  } else if (const auto* date = std::get_if<sf::Date>(&v)) {
    out += '@';
    out += std::to_string(date->unix_seconds);
  }
}

void put_params(std::string& out, const sf::Parameters& params) {
  for (const auto& [key, value] : params) {
    out += ';';
    out += key;
    if (const auto* flag = std::get_if<bool>(&value); flag != nullptr && *flag) continue;
    out += '=';
    put_bare(out, value);
  }
}

void put_item(std::string& out, const sf::Item& item) {
  put_bare(out, item.value);
  put_params(out, item.params);
}

void put_member(std::string& out, const sf::ListMember& m) {
  if (const auto* item = std::get_if<sf::Item>(&m)) {
    put_item(out, *item);
    return;
  }
  const auto& inner = std::get<sf::InnerList>(m);
  out += '(';
  for (std::size_t i = 0; i < inner.items.size(); ++i) {
    if (i) out += ' ';
    put_item(out, inner.items[i]);
  }
  out += ')';
  put_params(out, inner.params);
}

std::string serialize(const sf::List& list) {
  std::string out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i) out += ", ";
    put_member(out, list[i]);
  }
  return out;
}

std::string serialize(const sf::Dictionary& dict) {
  std::string out;
  for (std::size_t i = 0; i < dict.size(); ++i) {
    if (i) out += ", ";
    out += dict[i].first;
    const auto* item = std::get_if<sf::Item>(&dict[i].second);
    if (item != nullptr) {
      if (const auto* flag = std::get_if<bool>(&item->value); flag != nullptr && *flag) {
        put_params(out, item->params);
        continue;
      }
    }
    out += '=';
    put_member(out, dict[i].second);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = xfer_fuzz::as_text(data, size);

  if (const auto item = sf::parse_item(input)) {
    check_bare(item->value);
    check_params(item->params);
    std::string text;
    put_item(text, *item);
    if (text.size() <= sf::kMaxFieldLength) {
      const auto again = sf::parse_item(text);
      FUZZ_CHECK(again.has_value());
      FUZZ_CHECK(*again == *item);
    }
    const auto as_list = sf::parse_list(input);
    FUZZ_CHECK(as_list.has_value());
    FUZZ_CHECK(as_list->size() == 1);
    FUZZ_CHECK(std::get_if<sf::Item>(&(*as_list)[0]) != nullptr);
    FUZZ_CHECK(std::get<sf::Item>((*as_list)[0]) == *item);
    if (const auto* n = std::get_if<std::int64_t>(&item->value)) {
      const auto text_n = sf::serialize_integer(*n);
      FUZZ_CHECK(text_n.has_value());
      const auto back = sf::parse_item(*text_n);
      FUZZ_CHECK(back && std::get_if<std::int64_t>(&back->value) && std::get<std::int64_t>(back->value) == *n);
    }
    if (const auto* b = std::get_if<bool>(&item->value)) {
      FUZZ_CHECK(sf::parse_item(sf::serialize_boolean(*b))->value == item->value);
    }
  }

  if (const auto list = sf::parse_list(input)) {
    FUZZ_CHECK(list->size() <= sf::kMaxMembers);
    for (const auto& m : *list) check_member(m);
    const std::string text = serialize(*list);
    if (text.size() <= sf::kMaxFieldLength) {
      const auto again = sf::parse_list(text);
      FUZZ_CHECK(again.has_value());
      FUZZ_CHECK(*again == *list);
    }
  }

  if (const auto dict = sf::parse_dictionary(input)) {
    FUZZ_CHECK(dict->size() <= sf::kMaxMembers);
    std::vector<std::pair<std::string, std::int64_t>> integers;
    bool all_plain_integers = true;
    for (std::size_t i = 0; i < dict->size(); ++i) {
      const auto& [key, member] = (*dict)[i];
      FUZZ_CHECK(sf::is_valid_key(key));
      for (std::size_t j = 0; j < i; ++j) FUZZ_CHECK((*dict)[j].first != key);  // duplicates merged
      check_member(member);
      FUZZ_CHECK(sf::find(*dict, key) == &member);
      const auto* n = sf::get_if_item<std::int64_t>(&member);
      if (n != nullptr && std::get<sf::Item>(member).params.empty()) {
        integers.emplace_back(key, *n);
      } else {
        all_plain_integers = false;
      }
    }
    const std::string text = serialize(*dict);
    if (text.size() <= sf::kMaxFieldLength) {
      const auto again = sf::parse_dictionary(text);
      FUZZ_CHECK(again.has_value());
      FUZZ_CHECK(*again == *dict);
    }
    if (all_plain_integers) {
      const auto text_d = sf::serialize_integer_dictionary(integers);
      FUZZ_CHECK(text_d.has_value());
      if (text_d->size() <= sf::kMaxFieldLength) {
        const auto again = sf::parse_dictionary(*text_d);
        FUZZ_CHECK(again.has_value() && *again == *dict);
      }
    }
  }
  return 0;
}
