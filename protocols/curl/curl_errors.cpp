#include "protocols/curl/curl_errors.h"

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

}  // namespace

Error error_from_curl(CURLcode code, std::string_view detail) {
  const Classification c = classify(code);
  std::string message = curl_easy_strerror(code);
  if (!detail.empty()) message = fmt::format("{} ({})", message, detail);
  return Error(c.category, fmt::format("curl error {}: {}", static_cast<int>(code), message),
               c.retryable);
}

Error error_from_curlm(CURLMcode code, std::string_view what) {
  return Error(ErrorCategory::Internal,
               fmt::format("{}: {}", what, curl_multi_strerror(code)));
}

}  // namespace xfer::protocols::curl
