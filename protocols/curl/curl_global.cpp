#include "protocols/curl/curl_global.h"

#include <mutex>
#include <optional>

#include <curl/curl.h>
#include <fmt/format.h>

namespace xfer::protocols::curl {
namespace {

Result<CurlFeatures> init_once() {
  // CURL_GLOBAL_DEFAULT initialises the TLS backend; libcurl >= 7.84 makes this thread-safe,
  // but call_once keeps it to one call regardless of the version loaded.
  if (const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
    return fail(ErrorCategory::Internal,
                fmt::format("curl_global_init failed: {}", curl_easy_strerror(rc)));
  }
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  if (info == nullptr) return fail(ErrorCategory::Internal, "curl_version_info returned null");
  CurlFeatures features;
  features.version = info->version != nullptr ? info->version : "";
  features.version_num = info->version_num;
  features.http2 = (info->features & CURL_VERSION_HTTP2) != 0;
  features.ssl = (info->features & CURL_VERSION_SSL) != 0;
  features.ssl_version = info->ssl_version != nullptr ? info->ssl_version : "";
  // Options used by the transport (PROTOCOLS_STR, MAX_CONCURRENT_STREAMS) need >= 7.85.
  if (features.version_num < 0x075500) {
    return fail(ErrorCategory::Internal,
                fmt::format("libcurl {} is too old; xfer needs 7.85 or newer", features.version));
  }
  if (!features.ssl) {
    return fail(ErrorCategory::Internal,
                fmt::format("libcurl {} was built without TLS support", features.version));
  }
  if (!features.http2) {
    return fail(ErrorCategory::Internal,
                fmt::format("libcurl {} was built without HTTP/2 support", features.version));
  }
  return features;
}

}  // namespace

Result<CurlFeatures> ensure_curl_global() {
  static std::once_flag once;
  static std::optional<Result<CurlFeatures>> result;
  std::call_once(once, [] { result.emplace(init_once()); });
  return *result;
}

}  // namespace xfer::protocols::curl
