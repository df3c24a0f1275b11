#include "protocols/curl/curl_stream.h"

#include <algorithm>
#include "base/ascii.h"
#include <cstdlib>
#include <span>
#include <utility>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "protocols/curl/curl_errors.h"

namespace xfer::protocols::curl {
namespace {

bool has_header(const HeaderList& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return ascii_iequals(h.first, name); });
}

std::string protocol_name(long version) {
  switch (version) {
    case CURL_HTTP_VERSION_1_0: return "http/1.0";
    case CURL_HTTP_VERSION_1_1: return "http/1.1";
    case CURL_HTTP_VERSION_2_0: return "h2";
    case CURL_HTTP_VERSION_3: return "h3";
    default: return "";
  }
}

// libcurl before 7.89.0 breaks every request after the first on an h2c (prior knowledge)
// connection it reuses or multiplexes onto: it stacks a second HTTP/2 layer on the connection
// and fails with "Error in the HTTP2 framing layer" (curl issue #10634, fixed by PR #10643).
// Debian 12 ships 7.88.1, so there each h2c request gets a connection of its own.
bool h2c_reuse_broken() {
  static const bool broken = curl_version_info(CURLVERSION_NOW)->version_num < 0x075900;
  return broken;
}

// Callbacks of an easy handle whose stream is gone (see ~CurlStream): refuse everything.
std::size_t orphan_header(char*, std::size_t, std::size_t, void*) { return 0; }
std::size_t orphan_write(char*, std::size_t, std::size_t, void*) { return 0; }
std::size_t orphan_read(char*, std::size_t, std::size_t, void*) { return CURL_READFUNC_ABORT; }
int orphan_progress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) { return 1; }

}  // namespace

Result<std::unique_ptr<CurlStream>> CurlStream::start(std::shared_ptr<CurlMultiAsio> multi,
                                                      const TransportSettings& config,
                                                      const HttpRequest& request,
                                                      ExchangeSink& sink) {
  std::unique_ptr<CurlStream> stream(new CurlStream(std::move(multi), sink, config));
  if (stream->easy_ == nullptr) return fail(ErrorCategory::Internal, "curl_easy_init failed");
  if (auto configured = stream->configure(config, request); !configured) {
    return std::unexpected(configured.error());
  }
  if (!stream->multi_->in_curl()) {
    if (auto added = stream->multi_->add(stream->easy_); !added) {
      return std::unexpected(added.error());
    }
    stream->attached_ = true;
    return stream;
  }
  // Started from inside a sink callback: libcurl refuses curl_multi_add_handle there.
  boost::asio::post(stream->multi_->io(),
                    [weak = std::weak_ptr<int>(stream->alive_), raw = stream.get()] {
                      if (!weak.expired()) raw->attach();
                    });
  return stream;
}

void CurlStream::attach() {
  Result<void> added = multi_->add(easy_);
  if (added) {
    attached_ = true;
    return;
  }
  boost::asio::post(multi_->io(), [weak = std::weak_ptr<int>(alive_), this,
                                   error = added.error()] {
    if (!weak.expired()) sink_.on_complete(std::unexpected(error));
  });
}

CurlStream::CurlStream(std::shared_ptr<CurlMultiAsio> multi, ExchangeSink& sink,
                       const TransportSettings& config)
    : multi_(std::move(multi)),
      sink_(sink),
      easy_(curl_easy_init()),
      collector_(config.max_header_bytes) {}

CurlStream::~CurlStream() {
  alive_.reset();
  if (easy_ == nullptr) return;
  if (!attached_) {
    curl_easy_cleanup(easy_);
    curl_slist_free_all(headers_);
    return;
  }
  // Still running: cut the handle loose from this object (its callbacks now fail the
  // transfer) and let the multi end it through curl's normal failure path.
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &orphan_header);
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &orphan_write);
  curl_easy_setopt(easy_, CURLOPT_READFUNCTION, &orphan_read);
  curl_easy_setopt(easy_, CURLOPT_XFERINFOFUNCTION, &orphan_progress);
  curl_easy_setopt(easy_, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(easy_, CURLOPT_PRIVATE, nullptr);
  multi_->adopt_orphan(easy_, headers_);
}

Result<void> CurlStream::configure(const TransportSettings& config, const HttpRequest& request) {
  const std::string& method = request.method;
  const std::string_view url = request.url;
  const bool https = url.size() >= 8 && ascii_iequals(url.substr(0, 8), "https://");
  const bool http = url.size() >= 7 && ascii_iequals(url.substr(0, 7), "http://");
  if (!http && !https) {
    return fail(ErrorCategory::InvalidArgument,
                fmt::format("unsupported URL (only http and https): {:.200}", request.url));
  }
  if (request.version == HttpVersion::Http3) {
    return fail(ErrorCategory::InvalidArgument, "the libcurl transport does not speak HTTP/3");
  }
  if (method.empty() || method.find_first_of(" \r\n\t") != std::string::npos) {
    return fail(ErrorCategory::InvalidArgument, fmt::format("bad method: {:.40}", method));
  }
  if (method == "HEAD" && request.body_length) {
    return fail(ErrorCategory::InvalidArgument, "HEAD request with a body");
  }

  Result<void> status;
  auto set = [&](CURLoption option, auto value) {
    if (!status) return;
    if (const CURLcode rc = curl_easy_setopt(easy_, option, value); rc != CURLE_OK) {
      status = std::unexpected(error_from_curl(rc).with_context(
          fmt::format("curl_easy_setopt({})", static_cast<int>(option))));
    }
  };

  set(CURLOPT_ERRORBUFFER, error_buffer_.data());
  // Diagnostics only: libcurl's own trace on stderr.
  static const bool verbose = std::getenv("XFER_CURL_VERBOSE") != nullptr;
  if (verbose) set(CURLOPT_VERBOSE, 1L);
  set(CURLOPT_PRIVATE, static_cast<void*>(static_cast<CurlEasyOwner*>(this)));
  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  // Redirects are followed above the transport (protocols/redirect), by one rule for every
  // transport; libcurl's own following would forward every custom header but two.
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  set(CURLOPT_HEADERFUNCTION, &CurlStream::header_trampoline);
  set(CURLOPT_HEADERDATA, this);
  set(CURLOPT_WRITEFUNCTION, &CurlStream::write_trampoline);
  set(CURLOPT_WRITEDATA, this);
  set(CURLOPT_BUFFERSIZE,
      static_cast<long>(std::clamp<std::size_t>(config.receive_buffer_bytes, 16 * 1024, 512 * 1024)));
  set(CURLOPT_TCP_NODELAY, 1L);
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout_ms));
  if (request.low_speed_bytes_per_sec > 0 && request.low_speed_seconds > 0) {
    set(CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(request.low_speed_bytes_per_sec));
    set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.low_speed_seconds));
  }
  if (config.insecure) {
    set(CURLOPT_SSL_VERIFYPEER, 0L);
    set(CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!config.ca_file.empty()) {
    set(CURLOPT_CAINFO, config.ca_file.c_str());
  }

  switch (request.version) {
    case HttpVersion::Http1_1:
      set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
      break;
    case HttpVersion::Http2:
      if (http && config.h2c_prior_knowledge) {
        set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE));
        h2c_unshared_ = h2c_reuse_broken();
        if (h2c_unshared_) {
          set(CURLOPT_FRESH_CONNECT, 1L);
          set(CURLOPT_FORBID_REUSE, 1L);
          break;
        }
      } else {
        set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
      }
      set(CURLOPT_PIPEWAIT, 1L);
      break;
    case HttpVersion::Any:
    case HttpVersion::Http3:
    case HttpVersion::Http3Preferred:
      set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
      // Waiting for a connection to multiplex pays only where h2 can come (over TLS). On
      // http:// it is HTTP/1.1, and libcurl 7.88 then queued a second transfer behind the first
      // one's connection for as long as that transfer lasted (two rate-limited downloads ran
      // one after the other).
      if (!http) set(CURLOPT_PIPEWAIT, 1L);
      break;
  }

  if (method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (request.body_length) {
    body_length_ = *request.body_length;
    const auto length = static_cast<curl_off_t>(body_length_);
    set(CURLOPT_READFUNCTION, &CurlStream::read_trampoline);
    set(CURLOPT_READDATA, this);
    // libcurl rewinds the body when it sends the request again, e.g. on a fresh connection
    // after a reused one turned out dead; the sink decides whether its body can be replayed.
    set(CURLOPT_SEEKFUNCTION, &CurlStream::seek_trampoline);
    set(CURLOPT_SEEKDATA, this);
    set(CURLOPT_UPLOAD_BUFFERSIZE,
        static_cast<long>(std::clamp<std::size_t>(config.upload_buffer_bytes, 16 * 1024, 2 * 1024 * 1024)));
    if (method == "POST") {
      set(CURLOPT_POST, 1L);
      set(CURLOPT_POSTFIELDSIZE_LARGE, length);
    } else {
      set(CURLOPT_UPLOAD, 1L);
      set(CURLOPT_INFILESIZE_LARGE, length);
      if (method != "PUT") set(CURLOPT_CUSTOMREQUEST, method.c_str());
    }
  } else if (method == "GET") {
    set(CURLOPT_HTTPGET, 1L);
  } else {
    set(CURLOPT_CUSTOMREQUEST, method.c_str());
  }

  for (const auto& [name, value] : request.headers) {
    if (name.empty() || name.find_first_of(":\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      return fail(ErrorCategory::InvalidArgument, fmt::format("bad header field: {:.80}", name));
    }
    // "Name;" is libcurl's spelling of a header with an empty value ("Name:" would delete it).
    const std::string line = value.empty() ? name + ";" : name + ": " + value;
    curl_slist* grown = curl_slist_append(headers_, line.c_str());
    if (grown == nullptr) return fail(ErrorCategory::Internal, "out of memory building headers");
    headers_ = grown;
  }
  auto suppress = [&](const char* name) -> Result<void> {
    if (has_header(request.headers, name)) return {};
    curl_slist* grown = curl_slist_append(headers_, fmt::format("{}:", name).c_str());
    if (grown == nullptr) return fail(ErrorCategory::Internal, "out of memory building headers");
    headers_ = grown;
    return {};
  };
  if (request.body_length) {
    // No "Expect: 100-continue" round trip, and no form content type the caller did not ask for.
    if (auto r = suppress("Expect"); !r) return r;
    if (method == "POST") {
      if (auto r = suppress("Content-Type"); !r) return r;
    }
  }
  if (!config.user_agent.empty() && !has_header(request.headers, "User-Agent")) {
    set(CURLOPT_USERAGENT, config.user_agent.c_str());
  }
  if (headers_ != nullptr) set(CURLOPT_HTTPHEADER, headers_);
  return status;
}

std::size_t CurlStream::header_trampoline(char* data, std::size_t size, std::size_t count,
                                          void* self) {
  return static_cast<CurlStream*>(self)->on_header(std::string_view(data, size * count));
}

std::size_t CurlStream::write_trampoline(char* data, std::size_t size, std::size_t count,
                                         void* self) {
  return static_cast<CurlStream*>(self)->on_write(data, size * count);
}

std::size_t CurlStream::read_trampoline(char* data, std::size_t size, std::size_t count,
                                        void* self) {
  return static_cast<CurlStream*>(self)->on_read(data, size * count);
}

std::size_t CurlStream::on_header(std::string_view line) {
  Result<std::optional<HeaderBlock>> fed = collector_.feed(line);
  if (!fed) {
    abort_reason_ = fed.error();
    return 0;  // curl fails the transfer with CURLE_WRITE_ERROR; abort_reason_ says why
  }
  if (!*fed || head_delivered_) return line.size();
  HeaderBlock& block = **fed;
  if (block.interim()) {
    if (block.head.status != 101) sink_.on_interim(block.head);
    return line.size();
  }
  pending_head_ = std::move(block.head);
  deliver_pending_head();
  return line.size();
}

void CurlStream::deliver_pending_head() {
  if (head_delivered_ || !pending_head_) return;
  head_delivered_ = true;
  long version = 0;
  if (curl_easy_getinfo(easy_, CURLINFO_HTTP_VERSION, &version) == CURLE_OK) {
    protocol_ = protocol_name(version);
    // Not multiplexed (see h2c_reuse_broken): the scheduler must not pile streams onto it.
    if (h2c_unshared_ && protocol_ == "h2") protocol_ = "h2c-unshared";
  }
  const ResponseHeaders head = std::move(*pending_head_);
  pending_head_.reset();
  sink_.on_response_head(head);
}

std::size_t CurlStream::on_write(char* data, std::size_t size) {
  // Paused: hand the bytes back; libcurl keeps them and redelivers them after unpausing.
  if (receive_paused_) return CURL_WRITEFUNC_PAUSE;
  if (size == 0) return 0;
  deliver_pending_head();
  if (receive_paused_) return CURL_WRITEFUNC_PAUSE;  // the sink paused in on_response_head
  const BodyAction action =
      sink_.on_body(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data), size));
  if (action == BodyAction::Pause) pause_receive();
  return size;  // consumed either way (ExchangeSink::on_body's contract)
}

int CurlStream::seek_trampoline(void* self, curl_off_t offset, int origin) {
  auto* stream = static_cast<CurlStream*>(self);
  if (offset != 0 || origin != SEEK_SET || !stream->sink_.can_replay_body() ||
      !stream->sink_.rewind_body())
    return CURL_SEEKFUNC_CANTSEEK;
  stream->body_read_ = 0;
  stream->send_paused_ = false;
  return CURL_SEEKFUNC_OK;
}

std::size_t CurlStream::on_read(char* data, std::size_t size) {
  if (send_paused_) return CURL_READFUNC_PAUSE;
  // Never ask for more than the promised length, so a generous sink cannot overrun it.
  const std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>(size, body_length_ - body_read_));
  if (want == 0) return 0;
  const BodyRead read =
      sink_.read_body(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(data), want));
  if (read.bytes > want) {
    abort_reason_ = Error(ErrorCategory::Internal, "read_body returned more bytes than asked");
    return CURL_READFUNC_ABORT;
  }
  body_read_ += read.bytes;
  if (read.pause) {
    send_paused_ = true;  // curl pauses sending on CURL_READFUNC_PAUSE; resume_send() undoes it
    if (read.bytes == 0) return CURL_READFUNC_PAUSE;
    schedule_pause_sync();
  } else if (read.bytes == 0) {
    // libcurl would treat this as the end and then wait forever for a server that still
    // expects the rest of the announced length.
    abort_reason_ = Error(ErrorCategory::LocalIo,
                          fmt::format("request body ended after {} of {} bytes", body_read_,
                                      body_length_));
    return CURL_READFUNC_ABORT;
  }
  return read.bytes;
}

void CurlStream::pause_receive() {
  if (receive_paused_) return;
  receive_paused_ = true;
  schedule_pause_sync();
}

void CurlStream::resume_receive() {
  if (!receive_paused_) return;
  receive_paused_ = false;
  schedule_pause_sync();
}

void CurlStream::resume_send() {
  if (!send_paused_) return;
  send_paused_ = false;
  schedule_pause_sync();
}

void CurlStream::schedule_pause_sync() {
  if (pause_sync_posted_) return;
  pause_sync_posted_ = true;
  // Posted, so curl_easy_pause never runs inside a curl callback and an unpause (which
  // redelivers held-back bytes synchronously) never re-enters the caller.
  boost::asio::post(multi_->io(), [weak = std::weak_ptr<int>(alive_), this] {
    if (weak.expired()) return;
    pause_sync_posted_ = false;
    sync_pause();
  });
}

void CurlStream::sync_pause() {
  if (!attached_) return;
  const int bits = (receive_paused_ ? CURLPAUSE_RECV : 0) | (send_paused_ ? CURLPAUSE_SEND : 0);
  // The multi holds us alive through this call only via the caller; the weak token guards the
  // sink callbacks curl may run here (they run on this object, which is alive by contract).
  multi_->call_into_curl([this, bits] { curl_easy_pause(easy_, bits); });
}

void CurlStream::on_transfer_done(CURLcode result) {
  attached_ = false;
  multi_->remove(easy_);
  Result<void> outcome;
  if (result != CURLE_OK) {
    const CurlFailureContext context{.awaiting_response_head = !head_delivered_};
    outcome = std::unexpected(
        abort_reason_ ? *abort_reason_ : error_from_curl(result, error_buffer_.data(), context));
  }
  boost::asio::post(multi_->io(), [weak = std::weak_ptr<int>(alive_), this,
                                   outcome = std::move(outcome)]() mutable {
    if (weak.expired()) return;
    if (outcome) deliver_pending_head();
    if (weak.expired()) return;  // the sink destroyed us in on_response_head
    sink_.on_complete(std::move(outcome));
  });
}

}  // namespace xfer::protocols::curl
