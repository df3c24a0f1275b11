#include "tests/support/files.h"

#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

namespace xfer::test {

void write_pattern_file(const std::filesystem::path& path, std::uint64_t size, std::uint64_t seed) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot create " + path.string());
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> block(8192);
  while (size > 0) {
    for (auto& word : block) word = rng();
    const auto n = std::min<std::uint64_t>(size, block.size() * sizeof(std::uint64_t));
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
    size -= n;
  }
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

namespace {
std::string to_hex(const unsigned char* digest, unsigned int len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
}  // namespace

std::string sha256_hex(const void* data, std::size_t size) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data, size, digest, &len, EVP_sha256(), nullptr);
  return to_hex(digest, len);
}

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  MdCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  return to_hex(digest, len);
}

std::uint64_t download_bytes_on_disk(const std::filesystem::path& destination) {
  const std::filesystem::path part = destination.string() + ".part";
  std::error_code ec;
  if (auto size = std::filesystem::file_size(part, ec); !ec) return size;
  if (auto size = std::filesystem::file_size(destination, ec); !ec) return size;
  return 0;
}

}  // namespace xfer::test
