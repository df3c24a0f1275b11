#include "protocols/http/digest_fields.h"

#include <algorithm>

#include <openssl/evp.h>

#include <fmt/format.h>

#include "protocols/http/structured_fields.h"

namespace xfer::protocols {

struct Hasher::State {
  EVP_MD_CTX* ctx = nullptr;
  ~State() { EVP_MD_CTX_free(ctx); }
};

namespace {

const EVP_MD* evp_md(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::Sha512 ? EVP_sha512() : EVP_sha256();
}

std::optional<DigestAlgorithm> algorithm_from_key(std::string_view key) {
  if (key == "sha-256") return DigestAlgorithm::Sha256;
  if (key == "sha-512") return DigestAlgorithm::Sha512;
  return std::nullopt;
}

Error protocol_error(std::string message) { return Error(ErrorCategory::Protocol, std::move(message)); }

}  // namespace

std::string_view to_string(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::Sha512 ? "sha-512" : "sha-256";
}

std::size_t digest_size(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::Sha512 ? 64 : 32;
}

Result<std::vector<Digest>> parse_digest_field(std::string_view value) {
  const auto dict = sf::parse_dictionary(value);
  if (!dict) return std::unexpected(protocol_error("malformed digest field (not an sf-dictionary)"));
  std::vector<Digest> digests;
  for (const auto& [key, member] : *dict) {
    const auto algorithm = algorithm_from_key(key);
    if (!algorithm) continue;  // unknown or deprecated algorithm: ignored (RFC 9530 §2)
    const auto* bytes = sf::get_if_item<sf::ByteSequence>(&member);
    if (bytes == nullptr) {
      return std::unexpected(protocol_error(fmt::format("digest {} is not a byte sequence", key)));
    }
    if (bytes->value.size() != digest_size(*algorithm)) {
      return std::unexpected(protocol_error(fmt::format("digest {} has {} bytes, expected {}", key,
                                                        bytes->value.size(),
                                                        digest_size(*algorithm))));
    }
    digests.push_back(Digest{*algorithm, bytes->value});
  }
  return digests;
}

std::optional<Digest> strongest_digest(const std::vector<Digest>& digests) {
  std::optional<Digest> best;
  for (const auto& digest : digests) {
    if (!best || (best->algorithm == DigestAlgorithm::Sha256 &&
                  digest.algorithm == DigestAlgorithm::Sha512)) {
      best = digest;
    }
  }
  return best;
}

std::string format_digest_field(const Digest& digest) {
  return std::string(to_string(digest.algorithm)) + "=" + sf::serialize_byte_sequence(digest.value);
}

Result<Digest> parse_user_checksum(std::string_view text) {
  const auto colon = text.find(':');
  const auto invalid = [&](std::string_view why) {
    return std::unexpected(Error(ErrorCategory::InvalidArgument,
                                 fmt::format("checksum '{}': {} (expected sha256:<hex> or sha512:<hex>)",
                                             text.substr(0, 200), why)));
  };
  if (colon == std::string_view::npos) return invalid("no algorithm");
  std::string name(text.substr(0, colon));
  for (auto& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  DigestAlgorithm algorithm;
  if (name == "sha256" || name == "sha-256") {
    algorithm = DigestAlgorithm::Sha256;
  } else if (name == "sha512" || name == "sha-512") {
    algorithm = DigestAlgorithm::Sha512;
  } else {
    return invalid("unknown algorithm");
  }
  const auto bytes = from_hex(text.substr(colon + 1));
  if (!bytes) return invalid("not hexadecimal");
  if (bytes->size() != digest_size(algorithm)) return invalid("wrong length");
  return Digest{algorithm, *bytes};
}

std::string format_user_checksum(const Digest& digest) {
  return std::string(digest.algorithm == DigestAlgorithm::Sha512 ? "sha512:" : "sha256:") +
         to_hex(digest.value);
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const auto b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<std::uint8_t> out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

Result<void> check_digest(const Digest& expected, std::span<const std::uint8_t> actual) {
  if (expected.value.size() == actual.size() &&
      std::equal(actual.begin(), actual.end(), expected.value.begin())) {
    return {};
  }
  return std::unexpected(Error(ErrorCategory::Integrity,
                               fmt::format("{} mismatch: expected {}, got {}",
                                           to_string(expected.algorithm), to_hex(expected.value),
                                           to_hex(actual))));
}

Hasher::Hasher(DigestAlgorithm algorithm, std::unique_ptr<State> state)
    : algorithm_(algorithm), state_(std::move(state)) {}
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;
Hasher::~Hasher() = default;

Result<Hasher> Hasher::create(DigestAlgorithm algorithm) {
  auto state = std::make_unique<State>();
  state->ctx = EVP_MD_CTX_new();
  if (state->ctx == nullptr || EVP_DigestInit_ex(state->ctx, evp_md(algorithm), nullptr) != 1) {
    return std::unexpected(Error(ErrorCategory::Internal, "EVP digest init failed"));
  }
  return Hasher(algorithm, std::move(state));
}

Result<void> Hasher::update(std::span<const std::uint8_t> data) {
  if (!state_) return std::unexpected(Error(ErrorCategory::Internal, "moved-from Hasher"));
  if (data.empty()) return {};
  if (EVP_DigestUpdate(state_->ctx, data.data(), data.size()) != 1) {
    return std::unexpected(Error(ErrorCategory::Internal, "EVP digest update failed"));
  }
  bytes_hashed_ += data.size();
  return {};
}

Result<std::vector<std::uint8_t>> Hasher::finish() {
  if (!state_) return std::unexpected(Error(ErrorCategory::Internal, "moved-from Hasher"));
  std::vector<std::uint8_t> out(digest_size(algorithm_));
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(state_->ctx, out.data(), &len) != 1 || len != out.size()) {
    return std::unexpected(Error(ErrorCategory::Internal, "EVP digest final failed"));
  }
  if (auto reset_result = reset(); !reset_result) return std::unexpected(reset_result.error());
  return out;
}

Result<void> Hasher::reset() {
  if (!state_) return std::unexpected(Error(ErrorCategory::Internal, "moved-from Hasher"));
  if (EVP_DigestInit_ex(state_->ctx, evp_md(algorithm_), nullptr) != 1) {
    return std::unexpected(Error(ErrorCategory::Internal, "EVP digest init failed"));
  }
  bytes_hashed_ = 0;
  return {};
}

Result<Hasher> Hasher::clone() const {
  if (!state_) return std::unexpected(Error(ErrorCategory::Internal, "moved-from Hasher"));
  auto state = std::make_unique<State>();
  state->ctx = EVP_MD_CTX_new();
  if (state->ctx == nullptr || EVP_MD_CTX_copy_ex(state->ctx, state_->ctx) != 1) {
    return std::unexpected(Error(ErrorCategory::Internal, "EVP digest copy failed"));
  }
  Hasher copy(algorithm_, std::move(state));
  copy.bytes_hashed_ = bytes_hashed_;
  return copy;
}

}  // namespace xfer::protocols
