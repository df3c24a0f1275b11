#include "protocols/router/routing_transport.h"

#include <chrono>
#include <cstdlib>
#include <string_view>

#include "base/ascii.h"
#include "protocols/http/url.h"

namespace xfer::protocols {
namespace {

const char* env(const char* lower, const char* upper) {
  const char* v = std::getenv(lower);
  if (!v || !*v) v = std::getenv(upper);
  return v && *v ? v : nullptr;
}

// libcurl takes https_proxy / all_proxy from the environment (no_proxy excepted): an origin the
// user reaches through a proxy must not be reached around it over UDP because it advertised
// Alt-Svc through that proxy.
bool proxied(const std::string& host) {
  if (!env("https_proxy", "HTTPS_PROXY") && !env("all_proxy", "ALL_PROXY")) return false;
  const char* no_proxy = env("no_proxy", "NO_PROXY");
  if (!no_proxy) return true;
  std::string_view list(no_proxy);
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string entry = ascii_lower(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    if (entry == "*") return false;
    if (!entry.empty() && entry.front() == '.') entry.erase(0, 1);
    if (entry.empty()) continue;
    if (host == entry || (host.size() > entry.size() && host.ends_with("." + entry))) return false;
  }
  return true;
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RoutingTransport::RoutingTransport(boost::asio::io_context& io, std::shared_ptr<Transport> tcp,
                                   std::shared_ptr<Transport> quic, std::chrono::milliseconds fallback_after)
    : io_(io), tcp_(std::move(tcp)), quic_(std::move(quic)), fallback_after_(fallback_after) {}

void RoutingTransport::remember_alternatives(const std::string& origin, std::vector<AlternativeService> services) {
  h3_at_.erase(origin);
  auto url = Url::parse_http(origin);
  if (!url || url->scheme != "https") return;
  const std::string own_host = ascii_lower(url->host.value_or(""));
  for (auto& s : services) {
    if (s.alpn != "h3" || s.port == 0) continue;
    if (!s.host.empty() && ascii_lower(s.host) != own_host) continue;
    h3_at_[origin] = std::move(s);
    return;
  }
}

void RoutingTransport::remember_quic_broken(const std::string& origin, std::chrono::milliseconds how_long) {
  broken_->remember(origin, how_long);
}

void RoutingTransport::on_quic_broken(QuicBrokenListener listener) { broken_->on_mark = std::move(listener); }

std::optional<std::uint16_t> RoutingTransport::h3_port(const std::string& origin) {
  const auto it = h3_at_.find(origin);
  if (it == h3_at_.end()) return std::nullopt;
  if (it->second.expires_at <= unix_ms_now()) {
    h3_at_.erase(it);
    return std::nullopt;
  }
  return it->second.port;
}

Result<std::unique_ptr<HttpStream>> RoutingTransport::start(const HttpRequest& request, ExchangeSink& sink) {
  auto url = Url::parse_http(request.url);
  const bool https = url && url->scheme == "https";
  const std::string origin = url ? url->origin() : std::string();
  const auto alternative =
      https && !proxied(ascii_lower(url->host.value_or(""))) ? h3_port(origin) : std::nullopt;
  HttpRequest over_quic = request;
  if (alternative) over_quic.quic_port = *alternative;
  switch (request.version) {
    case HttpVersion::Http3:
      if (!quic_) return fail(ErrorCategory::InvalidArgument, "HTTP/3 is not available in this transport");
      return quic_->start(over_quic, sink);
    case HttpVersion::Http3Preferred:
    case HttpVersion::Any: {
      HttpRequest over_tcp = request;
      over_tcp.version = HttpVersion::Any;
      // HTTP/3 has no cleartext form; an unasked exchange goes there only when the origin said so.
      const bool try_quic = quic_ && https && (request.version == HttpVersion::Http3Preferred || alternative);
      if (!try_quic || broken_->broken(origin)) return tcp_->start(over_tcp, sink);
      auto stream = FallbackStream::start(io_, quic_, tcp_, broken_, origin, over_quic, sink, fallback_after_);
      if (!stream) return std::unexpected(stream.error());
      return std::unique_ptr<HttpStream>(std::move(*stream));
    }
    default:
      return tcp_->start(request, sink);
  }
}

TransportCapabilities RoutingTransport::capabilities() const { return tcp_->capabilities(); }

}  // namespace xfer::protocols
