// The RFC 9530 digest of a whole file, base64 as Repr-Digest carries it: for downloads that ask
// (Want-Repr-Digest) and for uploads that announce one (Repr-Digest on the completing request).
// Blocking (reads the file with pread): call it on the BlockingPool.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xts {

// `algorithm` is an RFC 9530 key ("sha-256", "sha-512"); nullopt for any other, or when the
// file cannot be read.
std::optional<std::string> file_digest_base64(int fd, std::string_view algorithm);

}  // namespace xts
