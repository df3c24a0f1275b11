#include "testserver/app/file_digest.h"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

#include <openssl/evp.h>

#include "testserver/app/http_util.h"

namespace xts {

std::optional<std::string> file_digest_base64(int fd, std::string_view algorithm) {
  const EVP_MD* md = algorithm == "sha-256"   ? EVP_sha256()
                     : algorithm == "sha-512" ? EVP_sha512()
                                              : nullptr;
  if (md == nullptr) return std::nullopt;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return std::nullopt;
  std::vector<std::uint8_t> buf(1 << 20);
  off_t pos = 0;
  for (;;) {
    const auto n = ::pread(fd, buf.data(), buf.size(), pos);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
    pos += n;
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) return std::nullopt;
  return base64_encode({out, len});
}

}  // namespace xts
