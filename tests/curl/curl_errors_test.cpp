// CURLcode → xfer::Error classification: the retry policy upstream depends on it.
#include <catch2/catch.hpp>

#include "protocols/curl/curl_errors.h"

namespace xfer::protocols::curl {

TEST_CASE("curl errors map to categories and retryability", "[curl][errors]") {
  struct Expect {
    CURLcode code;
    ErrorCategory category;
    bool retryable;
  };
  const Expect e = GENERATE(Expect{CURLE_COULDNT_CONNECT, ErrorCategory::Network, true},
                            Expect{CURLE_COULDNT_RESOLVE_HOST, ErrorCategory::Network, true},
                            Expect{CURLE_OPERATION_TIMEDOUT, ErrorCategory::Network, true},
                            Expect{CURLE_RECV_ERROR, ErrorCategory::Network, true},
                            Expect{CURLE_PARTIAL_FILE, ErrorCategory::Network, true},
                            Expect{CURLE_HTTP2_STREAM, ErrorCategory::Network, true},
                            Expect{CURLE_SSL_CONNECT_ERROR, ErrorCategory::Tls, true},
                            Expect{CURLE_PEER_FAILED_VERIFICATION, ErrorCategory::Tls, false},
                            Expect{CURLE_SSL_CACERT_BADFILE, ErrorCategory::Tls, false},
                            Expect{CURLE_TOO_MANY_REDIRECTS, ErrorCategory::Protocol, false},
                            Expect{CURLE_UNSUPPORTED_PROTOCOL, ErrorCategory::Protocol, false},
                            Expect{CURLE_ABORTED_BY_CALLBACK, ErrorCategory::Cancelled, false},
                            Expect{CURLE_URL_MALFORMAT, ErrorCategory::InvalidArgument, false},
                            Expect{CURLE_OUT_OF_MEMORY, ErrorCategory::Internal, false});
  const Error error = error_from_curl(e.code, "detail text");
  INFO(error.describe());
  CHECK(error.category() == e.category);
  CHECK(error.retryable() == e.retryable);
  CHECK(error.message().find("detail text") != std::string::npos);
}

}  // namespace xfer::protocols::curl
