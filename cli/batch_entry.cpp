#include "cli/batch_entry.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/options.h"

namespace xfer::cli {
namespace {

Result<void> check_download_destination(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  struct stat st {};
  if (::stat(parent.c_str(), &st) != 0)
    return std::unexpected(error_from_errno(errno, fmt::format("destination directory {}", parent)));
  if (!S_ISDIR(st.st_mode))
    return fail(ErrorCategory::LocalIo, fmt::format("destination directory {} is not a directory", parent));
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return fail(ErrorCategory::InvalidArgument,
                fmt::format("destination {} is a directory (end \"file\" with '/' to name the file after its URL)", path));
  return {};
}

Result<void> check_upload_source(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return std::unexpected(error_from_errno(errno, fmt::format("upload source {}", path)));
  if (!S_ISREG(st.st_mode))
    return fail(ErrorCategory::InvalidArgument, fmt::format("upload source {} is not a regular file", path));
  if (::access(path.c_str(), R_OK) != 0)
    return std::unexpected(error_from_errno(errno, fmt::format("upload source {}", path)));
  return {};
}

}  // namespace

std::string url_without_userinfo(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto start = scheme + 3;
  const auto end = url.find_first_of("/?#", start);
  const auto at = url.rfind('@', end == std::string::npos ? url.size() : end);
  if (at == std::string::npos || at < start) return url;
  return url.substr(0, start) + url.substr(at + 1);
}

Result<PreparedEntry> prepare_entry(const ManifestEntry& entry, const BatchDefaults& defaults) {
  PreparedEntry out;
  out.info.line = entry.line;
  out.info.direction = entry.direction;
  out.info.url = entry.url;
  out.info.checksum = entry.checksum;
  std::string file = entry.file;
  if (entry.direction == Direction::Download && file.ends_with('/')) file += file_name_from_url(entry.url);
  out.info.path = std::filesystem::absolute(file).lexically_normal().string();
  if (defaults.protocol == HttpVersion::Http3 && !entry.url.starts_with("https://"))
    return fail(ErrorCategory::InvalidArgument, "--http3-only needs https:// URLs (HTTP/3 has no cleartext form)");
  HeaderList headers = defaults.headers;
  headers.insert(headers.end(), entry.headers.begin(), entry.headers.end());

  if (entry.direction == Direction::Download) {
    if (auto r = check_download_destination(out.info.path); !r) return std::unexpected(r.error());
    DownloadSpec spec;
    spec.url = entry.url;
    spec.destination = out.info.path;
    spec.headers = headers;
    spec.priority = entry.priority;
    spec.checksum = entry.checksum;
    spec.protocol = defaults.protocol;
    out.spec = std::move(spec);
  } else {
    if (auto r = check_upload_source(out.info.path); !r) return std::unexpected(r.error());
    UploadSpec spec;
    spec.source = out.info.path;
    spec.url = entry.url;
    spec.headers = headers;
    spec.priority = entry.priority;
    spec.checksum = entry.checksum;
    spec.protocol_version = defaults.protocol;
    out.spec = std::move(spec);
  }
  // NUL never occurs in any of these (refused or impossible), so it separates them unambiguously.
  auto add = [&](std::string_view part) {
    out.identity += part;
    out.identity.push_back('\0');
  };
  add(entry.direction == Direction::Download ? "d" : "u");
  add(entry.url);
  add(out.info.path);
  add(entry.checksum);
  add(std::to_string(entry.priority));
  for (const auto& [name, value] : entry.headers) {
    add(name);
    add(value);
  }
  return out;
}

}  // namespace xfer::cli
