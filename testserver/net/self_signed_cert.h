// A throwaway certificate for --self-signed: a P-256 key and a self-signed certificate for
// localhost, 127.0.0.1 and ::1, written as PEM files into a directory (under --data). An
// existing pair is reused, so clients that trust it keep working across server restarts.
#pragma once

#include <expected>
#include <filesystem>
#include <string>

namespace xts::net {

struct CertificateFiles {
  std::filesystem::path cert;
  std::filesystem::path key;
};

std::expected<CertificateFiles, std::string> ensure_self_signed_certificate(
    const std::filesystem::path& dir);

}  // namespace xts::net
