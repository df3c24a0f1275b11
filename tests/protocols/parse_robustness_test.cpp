// Feeds seeded random and mutated inputs to every parser in protocols/: none may crash, hang or
// trip ASan/UBSan, and whatever they accept must satisfy the parser's own promises. The seed is
// printed so a failure can be replayed. Default: a few thousand inputs per parser; [torture]
// runs a hundred times more.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "protocols/download/content_range.h"
#include "protocols/download/range_decision.h"
#include "protocols/http/digest_fields.h"
#include "protocols/http/retry_after.h"
#include "protocols/http/structured_fields.h"
#include "protocols/upload/interim_response.h"
#include "protocols/upload/upload_fields.h"

using namespace xfer::protocols;

namespace {

const std::vector<std::string> kSeeds = {
    "sha-256=:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:, sha-512=:AAAA:",
    "max-size=1000, min-size=0, max-append-size=100, min-append-size=10, max-age=3600",
    "a=(1 2 \"x\");p=?1, b=:aGk=:, c=1.5, d=tok/en, e=@1659578233, f",
    "sugar, tea, (a b);lvl=5, ()",
    "text/html;charset=utf-8;q=0.5",
    "bytes 100-199/1000",
    "bytes */1000",
    "bytes 0-0/*",
    "Sun, 06 Nov 1994 08:49:37 GMT",
    "Sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov  6 08:49:37 1994",
    "120",
    "\"etag-value\"",
    "W/\"weak\"",
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "https://up.example:8443/uploads/abc?x=1",
    "../../g?y#frag",
    "//other.example/x",
    "?1",
    "42, 42",
};

const std::string kAlphabet =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " \t\"\\:;,=()?*@%-+./_!#$&'^`|~[]{}<>\x01\x7f\x80\xff";

std::string mutate(std::string s, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> op(0, 6);
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  const int rounds = static_cast<int>(rng() % 6) + 1;
  for (int i = 0; i < rounds; ++i) {
    const std::size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (op(rng)) {
      case 0: s.insert(pos, 1, kAlphabet[pick(rng)]); break;
      case 1: if (pos < s.size()) s.erase(pos, 1 + rng() % 4); break;
      case 2: if (pos < s.size()) s[pos] = kAlphabet[pick(rng)]; break;
      case 3: s.insert(pos, s.substr(0, rng() % (s.size() + 1))); break;  // duplicate a prefix
      case 4: if (pos < s.size()) s.resize(pos); break;                  // truncate
      case 5: s.insert(pos, std::string(rng() % 30, '9')); break;          // long numbers
      case 6: s += kSeeds[rng() % kSeeds.size()]; break;                  // splice
    }
    if (s.size() > 4096) s.resize(4096);
  }
  return s;
}

std::string random_string(std::mt19937_64& rng) {
  std::string s(rng() % 64, ' ');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

void exercise(const std::string& input, std::mt19937_64& rng) {
  if (const auto item = sf::parse_item(input)) {
    (void)item->params.size();
  }
  if (const auto list = sf::parse_list(input)) CHECK(list->size() <= sf::kMaxMembers);
  if (const auto dict = sf::parse_dictionary(input)) {
    CHECK(dict->size() <= sf::kMaxMembers);
    for (const auto& [key, member] : *dict) CHECK(sf::is_valid_key(key));
  }
  (void)parse_digest_field(input);
  (void)parse_user_checksum(input);
  if (const auto t = parse_http_date(input)) CHECK(parse_http_date(format_http_date(*t)) == *t);
  if (const auto d = parse_retry_after(input, 1'767'225'600'000)) {
    CHECK(d->count() >= 0);
    CHECK(*d <= kMaxRetryAfter);
  }
  if (const auto cr = parse_content_range(input)) {
    if (!cr->unsatisfied) {
      CHECK(cr->first <= cr->last);
      if (cr->complete_length) CHECK(cr->last < *cr->complete_length);
    }
  }
  (void)parse_content_length(input);
  (void)parse_entity_tag(input);
  (void)parse_upload_offset(input);
  const auto v = *dialect_for(static_cast<int>(3 + rng() % 7));
  (void)parse_upload_limit(input, v);
  (void)parse_completion(v, input);
  if (const auto u = Url::parse(input)) CHECK(Url::parse(u->to_string()).has_value());
  static const Url base = *Url::parse_http("https://up.example/a/b?c");
  (void)base.resolve(input);

  // Whole decisions fed with hostile header values.
  RangeAsk ask;
  ask.offset = rng() % 2000;
  if (rng() % 2) ask.known_length = rng() % 3000;
  if (rng() % 3 == 0) ask.last = ask.offset + rng() % 100;
  ask.held.etag = (rng() % 2) ? std::optional<std::string>(input) : std::optional<std::string>("\"v1\"");
  ask.held.last_modified = input;
  ask.held.date = "Wed, 01 Jan 2025 12:00:00 GMT";
  (void)build_range_request(ask);
  RangeResponse response;
  const int statuses[] = {200, 206, 416, 500};
  response.status = statuses[rng() % 4];
  response.content_range = input;
  if (rng() % 2) response.content_length = input;
  if (rng() % 2) response.etag = input;
  response.last_modified = input;
  const auto decision = judge_range_response(ask, response);
  if (decision.outcome == RangeOutcome::Continue && response.status == 206) {
    CHECK(decision.write_offset == ask.offset);  // never splice at another offset
  }
  ResponseHeaders interim;
  interim.status = 104;
  interim.fields = {{"upload-draft-interop-version", std::to_string(v.interop_version)},
                    {"location", input},
                    {"upload-offset", input},
                    {"upload-limit", input}};
  const auto d = judge_interim(interim, v, base, std::nullopt, std::nullopt);
  if (d.upload_url) CHECK(Url::parse_http(*d.upload_url)->origin() == base.origin());
}

void run(std::uint64_t seed, int iterations) {
  INFO("seed " << seed << " (replay: change the seed in this test)");
  std::mt19937_64 rng(seed);
  for (int i = 0; i < iterations; ++i) {
    const std::string input = (i % 4 == 0) ? random_string(rng) : mutate(kSeeds[rng() % kSeeds.size()], rng);
    exercise(input, rng);
  }
}

}  // namespace

TEST_CASE("parsers survive seeded random and mutated input", "[robustness]") {
  run(0x5eed'0001, 10000);
}

TEST_CASE("parsers survive seeded random and mutated input (long)", "[robustness][torture]") {
  run(0x5eed'0002, 400'000);
}
