// The ".part" file of a download and its atomic finalize (design.md invariant 2): the bytes
// are checked (size, server digest, user checksum), fsync'ed, renamed onto the destination, and
// the directory is fsync'ed, so the destination appears only complete and verified, and stays
// after a power loss. Blocking: run it on the blocking pool, never on the loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <xfer/error.h>

#include "transfer/files/file_system.h"
#include "transfer/files/prefix_digest.h"

namespace xfer::files {

// "<destination>.part"
std::string part_path(const std::string& destination);
// The directory holding `path` ("." when it has none).
std::string parent_directory(const std::string& path);

struct FinalizeChecks {
  std::optional<std::uint64_t> size;  // exact length required
  DigestExpectations digests;
};

// Verifies `part` against `checks` (`digest` has hashed a prefix already, or nothing), fsyncs
// it, checks that the destination may be replaced and that `part_file` still names the inode
// `part` wrote, and renames it to `destination`. The rename is durable only once the caller
// has fsync'ed parent_directory(destination) (several publishes into one directory share that
// flush). On any failure the destination is untouched.
Result<void> publish_part(FileSystem& fs, File& part, const std::string& part_file,
                          const std::string& destination, const FinalizeChecks& checks,
                          PrefixDigest& digest);

// publish_part, then the directory's fsync.
Result<void> finalize_part(FileSystem& fs, File& part, const std::string& part_file,
                           const std::string& destination, const FinalizeChecks& checks,
                           PrefixDigest& digest);

}  // namespace xfer::files
