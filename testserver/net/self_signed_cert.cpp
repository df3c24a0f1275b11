#include "testserver/net/self_signed_cert.h"

#include <cstdio>
#include <memory>
#include <system_error>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace xts::net {

namespace {

using PKeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using FilePtr = std::unique_ptr<FILE, decltype(&std::fclose)>;

std::string openssl_error(const char* what) {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  return fmt::format("{}: {}", what, buf);
}

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

std::expected<X509Ptr, std::string> make_certificate(EVP_PKEY* key) {
  X509Ptr cert(X509_new(), &X509_free);
  if (!cert) return std::unexpected(openssl_error("X509_new"));
  X509_set_version(cert.get(), 2);
  // A random 64-bit serial: clients caching an old cert never see two certs with one serial.
  unsigned char serial[8];
  std::FILE* urandom = std::fopen("/dev/urandom", "rb");
  if (urandom == nullptr || std::fread(serial, 1, sizeof serial, urandom) != sizeof serial) {
    if (urandom != nullptr) std::fclose(urandom);
    return std::unexpected("cannot read /dev/urandom");
  }
  std::fclose(urandom);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 365);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("xfer-testserver"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key);
  // Like `openssl req -x509`: a self-signed CA certificate, so it can be given to clients as
  // their trust anchor (curl --cacert, GnuTLS trust files) as well as be the server's leaf.
  if (!add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !add_extension(cert.get(), NID_subject_key_identifier, "hash") ||
      !add_extension(cert.get(), NID_authority_key_identifier, "keyid:always") ||
      !add_extension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign") ||
      !add_extension(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !add_extension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1")) {
    return std::unexpected(openssl_error("X509 extension"));
  }
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) return std::unexpected(openssl_error("X509_sign"));
  return cert;
}

std::expected<void, std::string> write_pem(const std::filesystem::path& path, EVP_PKEY* key,
                                           X509* cert) {
  const auto tmp = path.string() + ".tmp";
  FilePtr file(std::fopen(tmp.c_str(), "wb"), &std::fclose);
  if (!file) return std::unexpected(fmt::format("cannot create {}", tmp));
  const bool ok = key != nullptr
                      ? PEM_write_PrivateKey(file.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1
                      : PEM_write_X509(file.get(), cert) == 1;
  if (!ok || std::fflush(file.get()) != 0) return std::unexpected(fmt::format("cannot write {}", tmp));
  file.reset();
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return std::unexpected(fmt::format("cannot rename {}: {}", tmp, ec.message()));
  return {};
}

}  // namespace

std::expected<CertificateFiles, std::string> ensure_self_signed_certificate(
    const std::filesystem::path& dir) {
  CertificateFiles files{dir / "cert.pem", dir / "key.pem"};
  std::error_code ec;
  if (std::filesystem::exists(files.cert, ec) && std::filesystem::exists(files.key, ec)) return files;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  PKeyPtr key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  if (!key) return std::unexpected(openssl_error("EVP_EC_gen"));
  auto cert = make_certificate(key.get());
  if (!cert) return std::unexpected(cert.error());
  // The key first: a cert.pem on disk always has its key next to it.
  if (auto r = write_pem(files.key, key.get(), nullptr); !r) return std::unexpected(r.error());
  if (auto r = write_pem(files.cert, nullptr, cert->get()); !r) return std::unexpected(r.error());
  return files;
}

}  // namespace xts::net
