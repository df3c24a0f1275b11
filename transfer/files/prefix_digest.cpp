#include "transfer/files/prefix_digest.h"

#include <algorithm>

#include <fmt/format.h>

namespace xfer::files {
namespace {

std::vector<protocols::DigestAlgorithm> algorithms_of(const DigestExpectations& wanted) {
  std::vector<protocols::DigestAlgorithm> out;
  const auto add = [&](protocols::DigestAlgorithm a) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  };
  for (const auto* d : {&wanted.server_digest, &wanted.user_checksum})
    if (*d) add((*d)->algorithm);
  if (wanted.report) add(*wanted.report);
  return out;
}

}  // namespace

std::optional<protocols::DigestAlgorithm> reported_algorithm(
    bool report_digests, const std::optional<protocols::Digest>& user_checksum) {
  if (!report_digests) return std::nullopt;
  return user_checksum ? user_checksum->algorithm : protocols::DigestAlgorithm::Sha256;
}

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
  std::lock_guard lock(mutex_);
  discard_locked();
}

void PrefixDigest::discard_locked() {
  hashers_.clear();
  algorithms_.clear();
  hashed_ = 0;
}

std::optional<protocols::Digest> PrefixDigest::reported() const {
  std::lock_guard lock(mutex_);
  return reported_;
}

std::uint64_t PrefixDigest::hashed() const {
  std::lock_guard lock(mutex_);
  return hashed_;
}

Result<void> PrefixDigest::advance(File& file, std::uint64_t upto,
                                   const DigestExpectations& wanted) {
  std::lock_guard lock(mutex_);
  return advance_locked(file, upto, wanted);
}

Result<void> PrefixDigest::advance_locked(File& file, std::uint64_t upto,
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
                  fmt::format("the file ends at byte {}, before the bytes the transfer moved "
                              "(it was truncated meanwhile)", hashed_));
    for (auto& h : hashers_)
      if (auto r = h.update(std::span(buffer.data(), *n)); !r) return r;
    hashed_ += *n;
  }
  return {};
}

Result<void> PrefixDigest::verify(File& file, std::uint64_t size, const DigestExpectations& wanted) {
  std::lock_guard lock(mutex_);
  reported_.reset();
  if (wanted.empty()) return {};
  if (hashed_ > size) {  // cannot happen unless the caller mixed files; hash again from zero
    if (auto r = reset_for(wanted); !r) return r;
  }
  if (auto r = advance_locked(file, size, wanted); !r) return r;
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
    if (wanted.report == h.algorithm()) reported_ = protocols::Digest{h.algorithm(), *actual};
  }
  discard_locked();
  return {};
}

}  // namespace xfer::files
