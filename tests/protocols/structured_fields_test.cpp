#include <catch2/catch.hpp>

#include <string>

#include "protocols/http/structured_fields.h"

namespace sf = xfer::protocols::sf;

namespace {

sf::BareItem bare(std::string_view field) {
  const auto item = sf::parse_item(field);
  REQUIRE(item.has_value());
  return item->value;
}

}  // namespace

TEST_CASE("sf items: integers", "[structured_fields]") {
  CHECK(bare("42") == sf::BareItem{std::int64_t{42}});
  CHECK(bare("-42") == sf::BareItem{std::int64_t{-42}});
  CHECK(bare("0") == sf::BareItem{std::int64_t{0}});
  CHECK(bare("00042") == sf::BareItem{std::int64_t{42}});
  CHECK(bare("999999999999999") == sf::BareItem{std::int64_t{999'999'999'999'999}});
  CHECK(bare("-999999999999999") == sf::BareItem{std::int64_t{-999'999'999'999'999}});
  for (const char* bad : {"1000000000000000", "-", "- 1", "+1", "1a", "0x1", "1 2", "--1", ""}) {
    INFO(bad);
    CHECK_FALSE(sf::parse_item(bad).has_value());
  }
}

TEST_CASE("sf items: decimals are exact thousandths", "[structured_fields]") {
  CHECK(bare("1.5") == sf::BareItem{sf::Decimal{1500}});
  CHECK(bare("-0.001") == sf::BareItem{sf::Decimal{-1}});
  CHECK(bare("123456789012.123") == sf::BareItem{sf::Decimal{123'456'789'012'123}});
  CHECK(bare("1.10") == sf::BareItem{sf::Decimal{1100}});
  for (const char* bad : {"1.", "1.1234", "1234567890123.1", ".5", "1..2", "1.2.3"}) {
    INFO(bad);
    CHECK_FALSE(sf::parse_item(bad).has_value());
  }
}

TEST_CASE("sf items: strings", "[structured_fields]") {
  CHECK(bare(R"("hello world")") == sf::BareItem{std::string("hello world")});
  CHECK(bare(R"("")") == sf::BareItem{std::string()});
  CHECK(bare(R"("a\"b\\c")") == sf::BareItem{std::string(R"(a"b\c)")});
  for (const char* bad : {R"("unterminated)", R"("bad \n escape")", "\"tab\there\"", "\"caf\xc3\xa9\"",
                          R"("x" y)", R"("\)"}) {
    INFO(bad);
    CHECK_FALSE(sf::parse_item(bad).has_value());
  }
}

TEST_CASE("sf items: tokens, booleans, dates", "[structured_fields]") {
  CHECK(bare("foo123/456") == sf::BareItem{sf::Token{"foo123/456"}});
  CHECK(bare("*foo:bar") == sf::BareItem{sf::Token{"*foo:bar"}});
  CHECK(bare("?1") == sf::BareItem{true});
  CHECK(bare("?0") == sf::BareItem{false});
  CHECK(bare("@1659578233") == sf::BareItem{sf::Date{1659578233}});
  for (const char* bad : {"?", "?2", "?10", "?true", "@", "@1.5", "%\"display\"", "1foo", "foo bar",
                          "\xff"}) {
    INFO(bad);
    CHECK_FALSE(sf::parse_item(bad).has_value());
  }
}

TEST_CASE("sf items: byte sequences", "[structured_fields]") {
  using Bytes = std::vector<std::uint8_t>;
  CHECK(bare(":aGVsbG8=:") == sf::BareItem{sf::ByteSequence{Bytes{'h', 'e', 'l', 'l', 'o'}}});
  CHECK(bare("::") == sf::BareItem{sf::ByteSequence{}});
  // Missing padding and non-zero pad bits are tolerated (RFC 9651 §4.2.7).
  CHECK(bare(":aGVsbG8:") == sf::BareItem{sf::ByteSequence{Bytes{'h', 'e', 'l', 'l', 'o'}}});
  CHECK(bare(":aGVsbG9:") == sf::BareItem{sf::ByteSequence{Bytes{'h', 'e', 'l', 'l', 'o'}}});
  CHECK(bare(":/+8=:") == sf::BareItem{sf::ByteSequence{Bytes{0xff, 0xef}}});
  for (const char* bad : {":aGVsbG8=", ":aGV sbG8=:", ":aGVs=bG8:", ":a:", ":aGVsbG8===:",
                          ":aGVsbG-_:", ":aGVsbG8=:x"}) {
    INFO(bad);
    CHECK_FALSE(sf::parse_item(bad).has_value());
  }
}

TEST_CASE("sf parameters", "[structured_fields]") {
  const auto item = sf::parse_item("text/html;charset=utf-8;q=0.5;secure;n=?0;charset=\"x\"");
  REQUIRE(item.has_value());
  CHECK(item->value == sf::BareItem{sf::Token{"text/html"}});
  REQUIRE(item->params.size() == 4);
  // A repeated key overwrites in place.
  CHECK(item->params[0] == std::pair<std::string, sf::BareItem>{"charset", std::string("x")});
  CHECK(*sf::find(item->params, "q") == sf::BareItem{sf::Decimal{500}});
  CHECK(*sf::find(item->params, "secure") == sf::BareItem{true});
  CHECK(*sf::find(item->params, "n") == sf::BareItem{false});
  CHECK(sf::find(item->params, "missing") == nullptr);
  CHECK(sf::parse_item("1; a=1")->params.size() == 1);  // SP allowed after ';'
  for (const char* bad : {"1;", "1;A=1", "1;a=", "1 ;a=1", "1;a=(1)", "1;1a=1", "1;a=1;"}) {
    INFO(bad);
    CHECK_FALSE(sf::parse_item(bad).has_value());
  }
}

TEST_CASE("sf lists and inner lists", "[structured_fields]") {
  const auto list = sf::parse_list("sugar, tea,\trum, (a b);lvl=5, ()");
  REQUIRE(list.has_value());
  REQUIRE(list->size() == 5);
  CHECK(std::get<sf::Item>((*list)[0]).value == sf::BareItem{sf::Token{"sugar"}});
  const auto& inner = std::get<sf::InnerList>((*list)[3]);
  REQUIRE(inner.items.size() == 2);
  CHECK(inner.items[1].value == sf::BareItem{sf::Token{"b"}});
  CHECK(*sf::find(inner.params, "lvl") == sf::BareItem{std::int64_t{5}});
  CHECK(std::get<sf::InnerList>((*list)[4]).items.empty());
  CHECK(sf::parse_list("")->empty());
  CHECK(sf::parse_list("( 1  2 )")->size() == 1);
  for (const char* bad : {"a,", ",a", "a,,b", "a b", "(a", "(a,b)", "(a)b", "a;", "(1)(2)"}) {
    INFO(bad);
    CHECK_FALSE(sf::parse_list(bad).has_value());
  }
}

TEST_CASE("sf dictionaries", "[structured_fields]") {
  const auto dict = sf::parse_dictionary("max-size=100, min-size=0, flag, off=?0;x, a=(1 2), max-size=7");
  REQUIRE(dict.has_value());
  REQUIRE(dict->size() == 5);
  CHECK((*dict)[0].first == "max-size");  // overwritten in place, keeps first position
  CHECK(*sf::get_if_item<std::int64_t>(sf::find(*dict, "max-size")) == 7);
  CHECK(*sf::get_if_item<bool>(sf::find(*dict, "flag")) == true);
  CHECK(*sf::get_if_item<bool>(sf::find(*dict, "off")) == false);
  CHECK(sf::get_if_item<std::int64_t>(sf::find(*dict, "a")) == nullptr);  // inner list
  CHECK(sf::get_if_item<std::int64_t>(sf::find(*dict, "flag")) == nullptr);  // wrong type
  CHECK(sf::find(*dict, "nope") == nullptr);
  for (const char* bad : {"A=1", "a=1,", "a=1 b=2", "a=", "=1", "a=1;;", "1=a", "a=1,,b=2",
                          "a=\"x", "a=1, B=2"}) {
    INFO(bad);
    CHECK_FALSE(sf::parse_dictionary(bad).has_value());
  }
}

TEST_CASE("sf limits keep hostile input cheap", "[structured_fields]") {
  std::string members;
  for (std::size_t i = 0; i <= sf::kMaxMembers; ++i) members += (i ? ",a" : "a") + std::to_string(i);
  CHECK_FALSE(sf::parse_dictionary(members).has_value());
  CHECK_FALSE(sf::parse_list(members).has_value());
  const std::string huge = "\"" + std::string(sf::kMaxFieldLength, 'x') + "\"";
  CHECK_FALSE(sf::parse_item(huge).has_value());
  const std::string fits = "\"" + std::string(sf::kMaxFieldLength - 2, 'x') + "\"";
  CHECK(sf::parse_item(fits).has_value());
}

TEST_CASE("sf serializer for the upload fields", "[structured_fields]") {
  CHECK(sf::serialize_boolean(true) == "?1");
  CHECK(sf::serialize_boolean(false) == "?0");
  CHECK(sf::serialize_integer(0) == "0");
  CHECK(sf::serialize_integer(-17) == "-17");
  CHECK(sf::serialize_integer(sf::kMaxInteger) == "999999999999999");
  CHECK_FALSE(sf::serialize_integer(sf::kMaxInteger + 1).has_value());
  CHECK(sf::serialize_integer_dictionary({{"max-size", 100}, {"min-size", 0}}) ==
        "max-size=100, min-size=0");
  CHECK(sf::serialize_integer_dictionary({}) == "");
  CHECK_FALSE(sf::serialize_integer_dictionary({{"Max", 1}}).has_value());
  CHECK_FALSE(sf::serialize_integer_dictionary({{"a", sf::kMaxInteger + 1}}).has_value());
  // Round trip.
  const auto text = sf::serialize_integer_dictionary({{"a", 1}, {"b-c", -2}});
  const auto dict = sf::parse_dictionary(*text);
  REQUIRE(dict.has_value());
  CHECK(*sf::get_if_item<std::int64_t>(sf::find(*dict, "b-c")) == -2);
  CHECK(sf::parse_item(*sf::serialize_integer(123))->value == sf::BareItem{std::int64_t{123}});
}
