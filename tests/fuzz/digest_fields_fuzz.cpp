// Fuzz target: integrity fields (protocols/http/digest_fields). The input is read as a
// Repr-Digest / Content-Digest value, as a user checksum ("sha256:<hex>") and as hex, and its
// bytes are hashed. Checks:
//  - every digest kept has the algorithm's length, they are exactly the sha-256 / sha-512
//    members of the dictionary (in order), and strongest_digest prefers sha-512;
//  - an accepted user checksum round-trips through to_hex, and check_digest accepts its own
//    value and rejects any other;
//  - from_hex / to_hex are inverse;
//  - Hasher: split updates, clone() and the reuse after finish() give the one-shot digest.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "protocols/http/digest_fields.h"
#include "protocols/http/structured_fields.h"
#include "tests/fuzz/fuzz_support.h"

using namespace xfer::protocols;

namespace {

std::vector<std::uint8_t> one_shot(DigestAlgorithm algorithm, std::span<const std::uint8_t> bytes) {
  auto h = Hasher::create(algorithm);
  FUZZ_CHECK(h.has_value());
  FUZZ_CHECK(h->update(bytes).has_value());
  auto d = h->finish();
  FUZZ_CHECK(d.has_value());
  return *d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = xfer_fuzz::as_text(data, size);

  if (const auto digests = parse_digest_field(input)) {
    const auto dict = sf::parse_dictionary(input);
    FUZZ_CHECK(dict.has_value());
    std::size_t known = 0;
    for (const auto& [key, member] : *dict) {
      if (key != "sha-256" && key != "sha-512") continue;
      FUZZ_CHECK(known < digests->size());
      const Digest& d = (*digests)[known++];
      FUZZ_CHECK(to_string(d.algorithm) == key);
      FUZZ_CHECK(d.value.size() == digest_size(d.algorithm));
      const auto* bytes = sf::get_if_item<sf::ByteSequence>(&member);
      FUZZ_CHECK(bytes != nullptr && bytes->value == d.value);
    }
    FUZZ_CHECK(known == digests->size());
    const auto best = strongest_digest(*digests);
    FUZZ_CHECK(best.has_value() == !digests->empty());
    if (best) {
      bool any512 = false;
      for (const auto& d : *digests) any512 = any512 || d.algorithm == DigestAlgorithm::Sha512;
      FUZZ_CHECK((best->algorithm == DigestAlgorithm::Sha512) == any512);
    }
  } else {
    FUZZ_CHECK(digests.error().category() == xfer::ErrorCategory::Protocol);
  }

  if (const auto checksum = parse_user_checksum(input)) {
    FUZZ_CHECK(checksum->value.size() == digest_size(checksum->algorithm));
    const std::string canonical = std::string(to_string(checksum->algorithm)) + ":" + to_hex(checksum->value);
    const auto again = parse_user_checksum(canonical);
    FUZZ_CHECK(again.has_value() && *again == *checksum);
    FUZZ_CHECK(check_digest(*checksum, checksum->value).has_value());
    auto other = checksum->value;
    other[other.size() / 2] ^= 0x01;
    const auto mismatch = check_digest(*checksum, other);
    FUZZ_CHECK(!mismatch.has_value() && mismatch.error().category() == xfer::ErrorCategory::Integrity);
  } else {
    FUZZ_CHECK(checksum.error().category() == xfer::ErrorCategory::InvalidArgument);
  }

  if (const auto bytes = from_hex(input)) {
    FUZZ_CHECK(bytes->size() * 2 == input.size());
    std::string lower(input);
    for (auto& c : lower) c = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
    FUZZ_CHECK(to_hex(*bytes) == lower);
  }
  const std::span<const std::uint8_t> all(data, size);
  FUZZ_CHECK(from_hex(to_hex(all)) == std::vector<std::uint8_t>(data, data + size));

  // Streaming hashes: split at a point chosen by the input itself.
  for (const auto algorithm : {DigestAlgorithm::Sha256, DigestAlgorithm::Sha512}) {
    const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
    auto h = Hasher::create(algorithm);
    FUZZ_CHECK(h.has_value());
    FUZZ_CHECK(h->update(all.first(cut)).has_value());
    auto prefix = h->clone();
    FUZZ_CHECK(prefix.has_value());
    FUZZ_CHECK(h->update(all.subspan(cut)).has_value());
    FUZZ_CHECK(h->bytes_hashed() == size);
    const auto whole = h->finish();
    FUZZ_CHECK(whole.has_value() && whole->size() == digest_size(algorithm));
    FUZZ_CHECK(*whole == one_shot(algorithm, all));
    FUZZ_CHECK(h->bytes_hashed() == 0);
    const auto head = prefix->finish();
    FUZZ_CHECK(head.has_value() && *head == one_shot(algorithm, all.first(cut)));
    // finish() left it fresh: the same bytes again give the same digest.
    FUZZ_CHECK(h->update(all).has_value());
    const auto again = h->finish();
    FUZZ_CHECK(again.has_value() && *again == *whole);
    FUZZ_CHECK(check_digest(Digest{algorithm, *whole}, *whole).has_value());
  }
  return 0;
}
