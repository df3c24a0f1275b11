#include "protocols/curl/curl_errors.h"

#include <charconv>
#include <cstdint>
#include <optional>

#include <fmt/format.h>

namespace xfer::protocols::curl {
namespace {

struct Classification {
  ErrorCategory category;
  bool retryable;
};

Classification classify(CURLcode code) {
  switch (code) {
    // The path to the peer failed; a new attempt (likely on a new connection) may succeed.
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_AGAIN:
    case CURLE_PROXY:
      return {ErrorCategory::Network, true};
    // Handshake failures are often transient (a reset mid-handshake, a server restarting).
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_SHUTDOWN_FAILED:
      return {ErrorCategory::Tls, true};
    // The peer is not who it claims, or our TLS configuration is unusable: retrying won't help.
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CLIENTCERT:
      return {ErrorCategory::Tls, false};
    // The peer broke the protocol or sent us somewhere we refuse to go.
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_RANGE_ERROR:
    case CURLE_SEND_FAIL_REWIND:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_UPLOAD_FAILED:
      return {ErrorCategory::Protocol, false};
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_UNKNOWN_OPTION:
      return {ErrorCategory::InvalidArgument, false};
    case CURLE_ABORTED_BY_CALLBACK:
      return {ErrorCategory::Cancelled, false};
    // A write/read callback refused the data; the stream records the real reason when it
    // aborted on purpose, so reaching this means a local failure.
    case CURLE_WRITE_ERROR:
    case CURLE_READ_ERROR:
      return {ErrorCategory::LocalIo, false};
    case CURLE_OUT_OF_MEMORY:
    default:
      return {ErrorCategory::Internal, false};
  }
}

// libcurl 7.88 names the RFC 9113 error code a stream closed with only in its error buffer
// (lib/http2.c, http2_handle_stream_close): "HTTP/2 stream 1 was not closed cleanly:
// PROTOCOL_ERROR (err 1)". The code is the same whether nghttp2 reset the stream because the
// peer broke the protocol (bad :status, DATA beyond content-length) or the peer sent the
// RST_STREAM itself; either way the exchange broke the protocol and a retry would too.
std::optional<std::uint32_t> h2_stream_error_code(std::string_view detail) {
  if (detail.find("was not closed cleanly") == std::string_view::npos) return std::nullopt;
  const std::size_t at = detail.rfind("(err ");
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view digits = detail.substr(at + 5);
  std::uint32_t code = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
  if (ec != std::errc() || end == digits.data() || *end != ')') return std::nullopt;
  return code;
}

bool is_violation_code(std::uint32_t h2_code) {
  constexpr std::uint32_t kProtocolError = 0x1, kFlowControlError = 0x3, kFrameSizeError = 0x6,
                          kCompressionError = 0x9;
  return h2_code == kProtocolError || h2_code == kFlowControlError ||
         h2_code == kFrameSizeError || h2_code == kCompressionError;
}

// A response head libcurl refused before we saw it, in its own words:
// - HTTP/1.1: a header line over CURL_MAX_HTTP_HEADER (100 KiB) fails its header buffer with
//   CURLE_OUT_OF_MEMORY and no message (lib/http.c, Curl_http_readwrite_headers);
// - HTTP/2: a header block over DYN_H2_HEADERS (128 KiB) fails its nghttp2 header callback,
//   which surfaces as CURLE_RECV_ERROR "nghttp2_session_mem_recv() returned -902" (the callback
//   also fails for a HEADERS frame without :status, hence "or malformed").
std::optional<std::string> refused_head(CURLcode code, std::string_view detail) {
  if (code == CURLE_OUT_OF_MEMORY) {
    return "response header too large: a header line over libcurl's 100 KiB limit";
  }
  if (code == CURLE_RECV_ERROR &&
      detail.find("nghttp2_session_mem_recv() returned -902") != std::string_view::npos) {
    return "response header too large or malformed: libcurl refused the HTTP/2 header block "
           "(over 128 KiB)";
  }
  return std::nullopt;
}

}  // namespace

Error error_from_curl(CURLcode code, std::string_view detail, CurlFailureContext context) {
  Classification c = classify(code);
  std::string message = curl_easy_strerror(code);
  if (!detail.empty()) message = fmt::format("{} ({})", message, detail);
  message = fmt::format("curl error {}: {}", static_cast<int>(code), message);
  if (context.awaiting_response_head) {
    if (std::optional<std::string> why = refused_head(code, detail)) {
      return Error(ErrorCategory::Protocol, fmt::format("{} ({})", *why, message));
    }
  }
  if (code == CURLE_HTTP2_STREAM || code == CURLE_HTTP2) {
    if (const auto h2_code = h2_stream_error_code(detail); h2_code && is_violation_code(*h2_code)) {
      c = {ErrorCategory::Protocol, false};
    }
  }
  return Error(c.category, std::move(message), c.retryable);
}

Error error_from_curlm(CURLMcode code, std::string_view what) {
  return Error(ErrorCategory::Internal,
               fmt::format("{}: {}", what, curl_multi_strerror(code)));
}

}  // namespace xfer::protocols::curl
