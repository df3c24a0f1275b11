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

TEST_CASE("an HTTP/2 stream closed for a protocol violation is a final Protocol error",
          "[curl][errors]") {
  struct Expect {
    CURLcode code;
    const char* detail;
    ErrorCategory category;
    bool retryable;
  };
  // The texts libcurl 7.88 writes into the error buffer (lib/http2.c).
  const Expect e = GENERATE(
      Expect{CURLE_HTTP2_STREAM, "HTTP/2 stream 1 was not closed cleanly: PROTOCOL_ERROR (err 1)",
             ErrorCategory::Protocol, false},
      Expect{CURLE_HTTP2_STREAM,
             "HTTP/2 stream 3 was not closed cleanly: FLOW_CONTROL_ERROR (err 3)",
             ErrorCategory::Protocol, false},
      Expect{CURLE_HTTP2_STREAM,
             "HTTP/2 stream 5 was not closed cleanly: FRAME_SIZE_ERROR (err 6)",
             ErrorCategory::Protocol, false},
      Expect{CURLE_HTTP2_STREAM,
             "HTTP/2 stream 7 was not closed cleanly: COMPRESSION_ERROR (err 9)",
             ErrorCategory::Protocol, false},
      Expect{CURLE_HTTP2_STREAM, "HTTP/2 stream 1 was not closed cleanly: INTERNAL_ERROR (err 2)",
             ErrorCategory::Network, true},
      Expect{CURLE_HTTP2_STREAM, "HTTP/2 stream 1 was not closed cleanly: CANCEL (err 8)",
             ErrorCategory::Network, true},
      Expect{CURLE_HTTP2_STREAM,
             "HTTP/2 stream 1 was not closed cleanly: ENHANCE_YOUR_CALM (err 11)",
             ErrorCategory::Network, true},
      Expect{CURLE_HTTP2_STREAM,
             "HTTP/2 stream 1 was closed cleanly, but before getting  all response header fields, "
             "treated as error",
             ErrorCategory::Network, true},
      Expect{CURLE_HTTP2_STREAM, "was not closed cleanly: PROTOCOL_ERROR (err 1x)",
             ErrorCategory::Network, true},
      Expect{CURLE_HTTP2, "", ErrorCategory::Network, true},
      Expect{CURLE_RECV_ERROR, "PROTOCOL_ERROR (err 1)", ErrorCategory::Network, true});
  INFO(e.detail);
  const Error error = error_from_curl(e.code, e.detail);
  CHECK(error.category() == e.category);
  CHECK(error.retryable() == e.retryable);
}

TEST_CASE("a response head libcurl refuses as too large is a Protocol error",
          "[curl][errors]") {
  const CurlFailureContext head{.awaiting_response_head = true};
  const Error line = error_from_curl(CURLE_OUT_OF_MEMORY, "", head);
  CHECK(line.category() == ErrorCategory::Protocol);
  CHECK_FALSE(line.retryable());
  CHECK(line.message().find("response header too large") != std::string::npos);
  const Error block = error_from_curl(
      CURLE_RECV_ERROR,
      "h2_process_pending_input: nghttp2_session_mem_recv() returned -902:The user callback "
      "function failed",
      head);
  CHECK(block.category() == ErrorCategory::Protocol);
  CHECK(block.message().find("response header too large") != std::string::npos);
  // Once the head is in, the same codes mean what they always mean.
  CHECK(error_from_curl(CURLE_OUT_OF_MEMORY, "").category() == ErrorCategory::Internal);
  CHECK(error_from_curl(CURLE_RECV_ERROR,
                        "nghttp2_session_mem_recv() returned -902:The user callback function "
                        "failed")
            .category() == ErrorCategory::Network);
  CHECK(error_from_curl(CURLE_RECV_ERROR, "Connection reset by peer", head).category() ==
        ErrorCategory::Network);
}

}  // namespace xfer::protocols::curl
