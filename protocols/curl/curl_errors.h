// Translation of libcurl failures into xfer::Error, in one place, so retry decisions upstream
// use one vocabulary. HTTP statuses are not errors here: the transport reports every status to
// the sink through on_response_head; only the engine decides what a 404 or a 503 means.
#pragma once

#include <string_view>

#include <curl/curl.h>

#include <xfer/error.h>

namespace xfer::protocols::curl {

// What the stream knew when the transfer failed: some codes mean something else while the
// final response head is still arriving.
struct CurlFailureContext {
  bool awaiting_response_head = false;
};

// Maps a transfer result. `detail` is libcurl's CURLOPT_ERRORBUFFER text (may be empty); it is
// appended to the message because it names the cause ("Connection refused", the cert error).
// Classification: connection, DNS, timeout, send/recv failures and HTTP/2 resets and GOAWAYs
// are Network and retryable; TLS handshake failures are Tls and retryable; certificate
// verification failures are Tls and final; malformed responses are Protocol and final, and so
// are HTTP/2 streams closed with a code that means the protocol was broken (PROTOCOL_ERROR,
// FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR, COMPRESSION_ERROR) and response heads libcurl refuses
// as too large; CURLE_ABORTED_BY_CALLBACK is Cancelled. REQUIRES: code != CURLE_OK.
// Known gap (libcurl 7.88): when nghttp2 ends the whole HTTP/2 session for a connection-level
// violation, libcurl says only "Empty reply from server" (CURLE_GOT_NOTHING), the same as an
// HTTP/1.1 server closing without an answer, so that stays Network and retryable.
Error error_from_curl(CURLcode code, std::string_view detail = {},
                      CurlFailureContext context = {});

// Maps a multi-interface failure (always Internal: it means misuse or out of memory).
Error error_from_curlm(CURLMcode code, std::string_view what);

}  // namespace xfer::protocols::curl
