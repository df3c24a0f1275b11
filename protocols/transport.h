// Transport: how the engine runs one HTTP exchange without knowing which library carries it.
// CurlTransport (protocols/curl, HTTP/1.1 and HTTP/2) implements it today; an HTTP/3 transport
// over ngtcp2/nghttp3 plugs in behind the same interface. The engine asks capabilities instead
// of branching on the type. Transports do not follow redirects; RedirectingTransport
// (protocols/redirect) does, above any of them, with one rule for where headers may go.
//
// Threading: a transport lives on one Boost.Asio io_context (the engine's loop thread). Every
// method is called on that thread and every ExchangeSink callback runs on it. Sink callbacks
// may call pause/resume/cancel on their own stream; they must not destroy the stream from
// inside a callback (post the destruction instead).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xfer/error.h>
#include <xfer/header_list.h>
#include <xfer/http_version.h>

#include "base/alt_service.h"

namespace xfer::protocols {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HeaderList headers;  // sent as given, in order
  HttpVersion version = HttpVersion::Any;
  // Request body: nullopt = no body; otherwise its exact length (pulled via ExchangeSink::read_body).
  std::optional<std::uint64_t> body_length;
  // Stall detection: below low_speed_bytes_per_sec for low_speed_seconds → Network error
  // (retryable). 0 disables.
  std::uint32_t low_speed_bytes_per_sec = 0;
  std::uint32_t low_speed_seconds = 0;
  std::uint32_t connect_timeout_ms = 15'000;
  // Redirects (protocols/redirect/redirect_policy.h): `headers` and the URL's userinfo go only
  // to hops at this request's origin, unless this is set; then to every http(s) origin except
  // over a downgrade from https to http. (curl's --location-trusted.)
  bool forward_headers_across_origins = false;
  // HTTP/3 only: the UDP port to reach the origin at, when an alternative service says it is
  // not the URL's own (set by the router from Alt-Svc); 0 = the URL's port.
  std::uint16_t quic_port = 0;
};

// A response header field; the name is lower case.
struct ResponseHeaders {
  int status = 0;
  HeaderList fields;
  // The URL that answered, after any redirects (the base a relative Location resolves
  // against); empty when the transport does not say, which means the request's own URL.
  std::string url;
  // First value of the named field (lower-case name), or nullptr.
  const std::string* find(std::string_view name) const;
};

enum class BodyAction { Continue, Pause };

struct BodyRead {
  std::size_t bytes = 0;  // bytes placed in the buffer
  bool pause = false;     // no data available now; the sink calls resume_send() later
};

// What the engine hears about one exchange. Callbacks arrive in this order:
// on_interim* (1xx, e.g. 104 Upload Resumption Supported), on_response_head, on_body*, then
// exactly one on_complete. read_body may be called any time before on_complete.
class ExchangeSink {
 public:
  virtual ~ExchangeSink() = default;
  virtual void on_interim(const ResponseHeaders& interim) = 0;
  // The final response's status and fields (after redirects, when something follows them).
  virtual void on_response_head(const ResponseHeaders& head) = 0;
  // Body bytes, in order. Returning Pause stops delivery until HttpStream::resume_receive();
  // the bytes of this call have been consumed either way.
  virtual BodyAction on_body(std::span<const std::uint8_t> data) = 0;
  // Fill `buffer` with the next request-body bytes; 0 bytes without pause means end of body.
  virtual BodyRead read_body(std::span<std::uint8_t> buffer) = 0;
  // The exchange ended: success after the full response, or why not. Called once.
  virtual void on_complete(Result<void> outcome) = 0;
  // A redirect that keeps the method (307, 308; 301/302 for other methods than POST) must send
  // the body again. A redirect follower asks can_replay_body() when the 3xx arrives (false:
  // the 3xx is the final response) and calls rewind_body() before the next request, after
  // which read_body starts again from the first byte (false: the exchange fails, LocalIo).
  virtual bool can_replay_body() const { return false; }
  virtual bool rewind_body() { return false; }
};

// One running exchange. Destroying it cancels the exchange (no further sink callbacks).
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  virtual void pause_receive() = 0;
  virtual void resume_receive() = 0;
  virtual void resume_send() = 0;  // after read_body returned pause
  // "http/1.1", "h2" or "h3" once known, else empty.
  virtual std::string negotiated_protocol() const = 0;
  // The connection carrying it has finished its handshake (a transport that cannot tell says
  // true): what a fallback from HTTP/3 to TCP waits for.
  virtual bool connection_ready() const { return true; }
};

struct TransportCapabilities {
  bool multiplexing = false;       // many streams over one connection
  std::uint32_t max_streams_per_connection = 1;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Starts the exchange. `sink` must outlive the returned stream.
  virtual Result<std::unique_ptr<HttpStream>> start(const HttpRequest& request,
                                                    ExchangeSink& sink) = 0;
  virtual TransportCapabilities capabilities() const = 0;
  // What is known about an origin's alternative services ("https://host:port"; learned from its
  // Alt-Svc, or remembered by the journal from an earlier run). A transport that can reach one
  // routes the origin's exchanges there; an empty list forgets them. Others ignore it.
  virtual void remember_alternatives(const std::string& origin, std::vector<AlternativeService> services) {
    (void)origin;
    (void)services;
  }
  // HTTP/3 to `origin` was found not to work (by an earlier run, kept in the journal): a
  // transport that would try it goes straight to TCP for `how_long`. Others ignore it.
  virtual void remember_quic_broken(const std::string& origin, std::chrono::milliseconds how_long) {
    (void)origin;
    (void)how_long;
  }
  // `listener` hears whenever the transport finds an origin's HTTP/3 not working, and for how
  // long it will not try it (an empty listener stops that). Called on the transport's thread.
  using QuicBrokenListener = std::function<void(const std::string& origin, std::chrono::milliseconds how_long)>;
  virtual void on_quic_broken(QuicBrokenListener listener) { (void)listener; }
};

}  // namespace xfer::protocols
