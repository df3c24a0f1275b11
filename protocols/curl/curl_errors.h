// Translation of libcurl failures into xfer::Error, in one place, so retry decisions upstream
// use one vocabulary. HTTP statuses are not errors here: the transport reports every status to
// the sink through on_response_head; only the engine decides what a 404 or a 503 means.
#pragma once

#include <string_view>

#include <curl/curl.h>

#include <xfer/error.h>

namespace xfer::protocols::curl {

// Maps a transfer result. `detail` is libcurl's CURLOPT_ERRORBUFFER text (may be empty); it is
// appended to the message because it names the cause ("Connection refused", the cert error).
// Classification: connection, DNS, timeout, send/recv and HTTP/2 stream failures are Network
// and retryable; TLS handshake failures are Tls and retryable; certificate verification
// failures are Tls and final; redirect loops and malformed responses are Protocol and final;
// CURLE_ABORTED_BY_CALLBACK is Cancelled. REQUIRES: code != CURLE_OK.
Error error_from_curl(CURLcode code, std::string_view detail = {});

// Maps a multi-interface failure (always Internal: it means misuse or out of memory).
Error error_from_curlm(CURLMcode code, std::string_view what);

}  // namespace xfer::protocols::curl
