#include "transfer/files/prefix_digest.h"

#include <algorithm>

namespace xfer::files {
namespace {

std::vector<protocols::DigestAlgorithm> algorithms_of(const DigestExpectations& wanted) {
  std::vector<protocols::DigestAlgorithm> out;
  for (const auto* d : {&wanted.server_digest, &wanted.user_checksum})
    if (*d && std::find(out.begin(), out.end(), (*d)->algorithm) == out.end())
      out.push_back((*d)->algorithm);
  return out;
}

}  // namespace

Result<void> PrefixDigest::reset_for(const DigestExpectations& wanted) {
  hashers_.clear();
  hashed_ = 0;
  algorithms_ = algorithms_of(wanted);
  for (auto algorithm : algorithms_) {
    auto hasher = protocols::Hasher::create(algorithm);
    if (!hasher) return std::unexpected(hasher.error());
    hashers_.push_back(std::move(*hasher));
  }
  return {};
}

void PrefixDigest::discard() {
  hashers_.clear();
  algorithms_.clear();
  hashed_ = 0;
}

Result<void> PrefixDigest::advance(File& file, std::uint64_t upto,
                                   const DigestExpectations& wanted) {
  if (wanted.empty()) return {};
  if (algorithms_of(wanted) != algorithms_) {
    if (auto r = reset_for(wanted); !r) return r;
  }
  std::vector<std::uint8_t> buffer(std::min<std::uint64_t>(1 << 20, upto > hashed_ ? upto - hashed_ : 0));
  while (hashed_ < upto) {
    const auto want = std::min<std::uint64_t>(buffer.size(), upto - hashed_);
    auto n = file.read_at(hashed_, std::span(buffer.data(), want));
    if (!n) return std::unexpected(n.error());
    if (*n == 0)
      return fail(ErrorCategory::LocalIo,
                  "the .part file ended before the bytes the download wrote into it");
    for (auto& h : hashers_)
      if (auto r = h.update(std::span(buffer.data(), *n)); !r) return r;
    hashed_ += *n;
  }
  return {};
}

Result<void> PrefixDigest::verify(File& file, std::uint64_t size, const DigestExpectations& wanted) {
  if (wanted.empty()) return {};
  if (hashed_ > size) {  // cannot happen unless the caller mixed files; hash again from zero
    if (auto r = reset_for(wanted); !r) return r;
  }
  if (auto r = advance(file, size, wanted); !r) return r;
  for (auto& h : hashers_) {
    auto actual = h.finish();
    if (!actual) return std::unexpected(actual.error());
    const auto check = [&](const std::optional<protocols::Digest>& expected,
                           std::string_view what) -> Result<void> {
      if (!expected || expected->algorithm != h.algorithm()) return {};
      if (auto r = protocols::check_digest(*expected, *actual); !r)
        return std::unexpected(r.error().with_context(what));
      return {};
    };
    if (auto r = check(wanted.server_digest, "server digest"); !r) return r;
    if (auto r = check(wanted.user_checksum, "checksum"); !r) return r;
  }
  discard();
  return {};
}

}  // namespace xfer::files
