// Integrity fields and hashing (RFC 9530 Digest Fields; user checksums).
// - parse_digest_field: a `Repr-Digest` or `Content-Digest` value, an sf-dictionary whose
//   members are byte sequences. sha-256 and sha-512 are kept (values of the wrong length are an
//   error); unknown or deprecated algorithms are ignored as RFC 9530 asks. Malformed input is an
//   error (Protocol), never a silently empty list.
// - parse_user_checksum: "sha256:<hex>" / "sha512:<hex>" (also "sha-256:", "sha-512:"), as given
//   to `xfer get --checksum` (InvalidArgument on anything else).
// - Hasher: streaming SHA-2 over OpenSSL EVP. finish() returns the digest and leaves the Hasher
//   fresh, so one Hasher can be reused; to resume after a restart the engine re-feeds the
//   already written prefix of `dest.part` through update() (reset() drops partial state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <xfer/error.h>

namespace xfer::protocols {

enum class DigestAlgorithm { Sha256, Sha512 };

// "sha-256" / "sha-512" (the RFC 9530 registry keys).
std::string_view to_string(DigestAlgorithm algorithm);
std::size_t digest_size(DigestAlgorithm algorithm);

struct Digest {
  DigestAlgorithm algorithm;
  std::vector<std::uint8_t> value;
  bool operator==(const Digest&) const = default;
};

// Known digests in the order they appeared (possibly empty when only unknown algorithms were
// listed).
Result<std::vector<Digest>> parse_digest_field(std::string_view value);

// The strongest digest of a list (sha-512 over sha-256), or nullopt when empty.
std::optional<Digest> strongest_digest(const std::vector<Digest>& digests);

Result<Digest> parse_user_checksum(std::string_view text);
// The form parse_user_checksum reads: "sha256:<hex>" / "sha512:<hex>".
std::string format_user_checksum(const Digest& digest);

// The Repr-Digest / Content-Digest value announcing `digest`: "sha-256=:<base64>:".
std::string format_digest_field(const Digest& digest);

// Lower-case hex; and its inverse (nullopt on odd length or a non-hex character).
std::string to_hex(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex);

// Ok when `actual` equals `expected.value`; otherwise an Integrity error naming both in hex.
Result<void> check_digest(const Digest& expected, std::span<const std::uint8_t> actual);

class Hasher {
 public:
  static Result<Hasher> create(DigestAlgorithm algorithm);
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  ~Hasher();

  DigestAlgorithm algorithm() const { return algorithm_; }
  // Bytes fed since creation or the last reset()/finish().
  std::uint64_t bytes_hashed() const { return bytes_hashed_; }

  Result<void> update(std::span<const std::uint8_t> data);
  // The digest of everything fed so far; the Hasher starts over afterwards.
  Result<std::vector<std::uint8_t>> finish();
  Result<void> reset();
  // An independent copy of the running state (digest a prefix and keep going).
  Result<Hasher> clone() const;

 private:
  struct State;
  Hasher(DigestAlgorithm algorithm, std::unique_ptr<State> state);
  DigestAlgorithm algorithm_;
  std::unique_ptr<State> state_;
  std::uint64_t bytes_hashed_ = 0;
};

}  // namespace xfer::protocols
