// PrefixDigest: the digests a ".part" file must match (server Repr-Digest, user --checksum),
// computed while the download runs instead of by re-reading the whole file at the end.
//
// A download's hash-ahead jobs (on the blocking pool, apart from its persist chain, so hashing
// never waits behind an fdatasync nor delays one) call advance() with the length of the file's
// contiguous written prefix; the new bytes are read back from the page cache and hashed there,
// so the loop thread never hashes and the finalize only hashes what arrived since. An upload's
// checkpoints do the same with the acknowledged prefix. A resumed download simply starts again
// from byte 0 of the file.
//
// Thread-safe: a hash-ahead job and the finalize may reach it from two pool threads; each call
// holds it whole (the finalize waits for a running advance, then hashes only the rest). A
// restart from zero (the file is truncated) must use a new PrefixDigest.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include <xfer/error.h>

#include "protocols/http/digest_fields.h"
#include "transfer/files/file_system.h"

namespace xfer::files {

struct DigestExpectations {
  std::optional<protocols::Digest> server_digest;  // Repr-Digest / Content-Digest
  std::optional<protocols::Digest> user_checksum;  // --checksum
  // Not checked against anything: computed so it can be reported (EngineConfig::report_digests).
  std::optional<protocols::DigestAlgorithm> report;
  bool empty() const { return !server_digest && !user_checksum && !report; }
};

// What a transfer reports when asked to: its checksum's algorithm, so the reported digest is the
// one the user can compare with, otherwise SHA-256.
std::optional<protocols::DigestAlgorithm> reported_algorithm(
    bool report_digests, const std::optional<protocols::Digest>& user_checksum);

class PrefixDigest {
 public:
  // Hashes [hashed, upto) of `file` for every algorithm `wanted` names. When the algorithms
  // change (the server's digest became known after bytes were hashed for the user's), it
  // starts over from byte 0.
  Result<void> advance(File& file, std::uint64_t upto, const DigestExpectations& wanted);
  // Hashes the rest up to `size` and compares every expectation; an Integrity error names the
  // one that differs. On success, reported() holds the digest `wanted.report` asked for.
  Result<void> verify(File& file, std::uint64_t size, const DigestExpectations& wanted);
  std::optional<protocols::Digest> reported() const;
  std::uint64_t hashed() const;
  // Forgets everything hashed (after a failed advance the state is not trustworthy): the next
  // advance() or verify() starts again from byte 0.
  void discard();

 private:
  Result<void> reset_for(const DigestExpectations& wanted);
  Result<void> advance_locked(File& file, std::uint64_t upto, const DigestExpectations& wanted);
  void discard_locked();
  mutable std::mutex mutex_;
  std::vector<protocols::Hasher> hashers_;
  std::vector<protocols::DigestAlgorithm> algorithms_;
  std::uint64_t hashed_ = 0;
  std::optional<protocols::Digest> reported_;
};

}  // namespace xfer::files
