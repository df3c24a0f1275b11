// Process-wide libcurl setup: curl_global_init exactly once (thread-safe), and a runtime check
// of the libcurl actually linked (the headers we compiled against may be newer than the
// library loaded). Every CurlTransport calls ensure_curl_global() before touching libcurl.
#pragma once

#include <string>

#include <xfer/error.h>

namespace xfer::protocols::curl {

struct CurlFeatures {
  std::string version;  // "7.88.1"
  unsigned version_num = 0;
  bool http2 = false;
  bool ssl = false;
  std::string ssl_version;  // "OpenSSL/3.0.19"
};

// Initialises libcurl once per process and reports its features. Fails (Internal) when
// curl_global_init fails or when the library lacks SSL or HTTP/2 support, which xfer needs.
// Safe to call from any thread, any number of times; later calls return the first result.
Result<CurlFeatures> ensure_curl_global();

}  // namespace xfer::protocols::curl
