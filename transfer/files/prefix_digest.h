// PrefixDigest: the digests a ".part" file must match (server Repr-Digest, user --checksum),
// computed while the download runs instead of by re-reading the whole file at the end.
//
// The download's persist chain (one job at a time, on the blocking pool) calls advance() with
// the length of the file's contiguous written prefix; the new bytes are read back from the page
// cache and hashed there, so the loop thread never hashes and the finalize only hashes what
// arrived after the last checkpoint. A resumed download simply starts again from byte 0 of the
// file (its durable prefix is hashed by the first checkpoint).
//
// Not thread-safe: the persist chain hands it from job to job, never to two at once. A restart
// from zero (the file is truncated) must use a new PrefixDigest.
#pragma once

#include <cstdint>
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
  const std::optional<protocols::Digest>& reported() const { return reported_; }
  std::uint64_t hashed() const { return hashed_; }
  // Forgets everything hashed (after a failed advance the state is not trustworthy): the next
  // advance() or verify() starts again from byte 0.
  void discard();

 private:
  Result<void> reset_for(const DigestExpectations& wanted);
  std::vector<protocols::Hasher> hashers_;
  std::vector<protocols::DigestAlgorithm> algorithms_;
  std::uint64_t hashed_ = 0;
  std::optional<protocols::Digest> reported_;
};

}  // namespace xfer::files
