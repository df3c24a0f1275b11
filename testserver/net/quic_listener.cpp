#include "testserver/net/quic_listener.h"

#include <algorithm>
#include <chrono>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <spdlog/spdlog.h>

namespace xts::net {

namespace {

std::string key_of(const std::uint8_t* data, std::size_t len) { return std::string(reinterpret_cast<const char*>(data), len); }
std::string key_of(const ngtcp2_cid& cid) { return key_of(cid.data, cid.datalen); }

// Retry tokens use wall-clock time: it is what generate/verify compare, not the loop clock.
ngtcp2_tstamp wall_ns() {
  return static_cast<ngtcp2_tstamp>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

constexpr ngtcp2_duration kRetryTokenLifetime = 10ull * 1000 * 1000 * 1000;

}  // namespace

QuicListener::QuicListener(boost::asio::io_context& io, std::shared_ptr<const QuicServerCredentials> tls,
                           std::shared_ptr<const ConnectionContext> ctx, Options options)
    : io_(io), tls_(std::move(tls)), ctx_(std::move(ctx)), options_(options) {}

std::expected<std::shared_ptr<QuicListener>, std::string> QuicListener::open(
    boost::asio::io_context& io, const boost::asio::ip::udp::endpoint& endpoint,
    std::shared_ptr<const QuicServerCredentials> tls, std::shared_ptr<const ConnectionContext> ctx, Options options) {
  std::shared_ptr<QuicListener> listener(new QuicListener(io, std::move(tls), std::move(ctx), options));
  auto path = DatagramPath::open(io, endpoint);
  if (!path) return std::unexpected(path.error());
  listener->path_ = std::move(*path);
  if (options.impair) listener->path_->impair(*options.impair);
  if (gnutls_rnd(GNUTLS_RND_KEY, listener->secret_.data(), listener->secret_.size()) != 0)
    return std::unexpected("no random bytes for the QUIC token secret");
  return listener;
}

void QuicListener::start() {
  path_->start([weak = weak_from_this()](const Datagram& d) {
    if (auto self = weak.lock()) self->on_datagram(d);
  });
}

void QuicListener::stop() {
  if (stopped_) return;
  stopped_ = true;
  std::vector<std::shared_ptr<H3Connection>> live;
  for (auto& [key, conn] : by_cid_) live.push_back(conn);
  std::sort(live.begin(), live.end());
  live.erase(std::unique(live.begin(), live.end()), live.end());
  for (auto& c : live) c->stop();
  // The closes are out; nothing more is read, so the connections' state can go.
  by_cid_.clear();
  connections_.clear();
  path_->close();
}

void QuicListener::associate(const ngtcp2_cid& cid, const std::shared_ptr<H3Connection>& connection) {
  if (stopped_) return;
  auto key = key_of(cid);
  // Random 18-byte CIDs do not collide in practice; never let one connection steal another's.
  auto [it, inserted] = by_cid_.emplace(key, connection);
  if (!inserted && it->second != connection) return;
  auto& keys = connections_[connection.get()];
  if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
}

void QuicListener::dissociate(const ngtcp2_cid& cid) {
  auto it = by_cid_.find(key_of(cid));
  if (it == by_cid_.end()) return;
  auto conn = connections_.find(it->second.get());
  if (conn != connections_.end()) std::erase(conn->second, it->first);
  by_cid_.erase(it);
}

void QuicListener::remove(H3Connection& connection) {
  auto it = connections_.find(&connection);
  if (it == connections_.end()) return;
  for (const auto& key : it->second) {
    auto c = by_cid_.find(key);
    if (c != by_cid_.end() && c->second.get() == &connection) by_cid_.erase(c);
  }
  connections_.erase(it);
}

void QuicListener::on_datagram(const Datagram& d) {
  // ngtcp2_pkt_decode_version_cid asserts on an empty datagram (which UDP allows).
  if (stopped_ || d.data.empty()) return;
  ngtcp2_version_cid vc{};
  const int rv = ngtcp2_pkt_decode_version_cid(&vc, d.data.data(), d.data.size(), kQuicCidLength);
  if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) return send_version_negotiation(vc, d);
  if (rv != 0) return;  // not QUIC, or too mangled to answer
  if (auto it = by_cid_.find(key_of(vc.dcid, vc.dcidlen)); it != by_cid_.end()) {
    auto conn = it->second;  // the datagram may end it
    conn->on_datagram(d);
    return;
  }
  if (vc.version == 0) return;  // a Version Negotiation packet sent to a server: ignore
  accept_new(d);
}

void QuicListener::accept_new(const Datagram& d) {
  ngtcp2_pkt_hd hd{};
  if (ngtcp2_accept(&hd, d.data.data(), d.data.size()) != 0) return;  // not an acceptable Initial (or 0-RTT first)
  if (connections_.size() >= ctx_->limits.max_quic_connections) {
    spdlog::info("h3 {}: too many QUIC connections ({}), refused", d.remote.to_string(), connections_.size());
    return send_stateless_close(hd, d, NGTCP2_CONNECTION_REFUSED);
  }
  QuicAccept info;
  info.header = hd;
  info.original_dcid = hd.dcid;
  if (hd.token.len > 0 && hd.token.base[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
    ngtcp2_cid odcid{};
    if (ngtcp2_crypto_verify_retry_token(&odcid, hd.token.base, hd.token.len, secret_.data(), secret_.size(),
                                         hd.version, d.remote.get(), d.remote.len, &hd.dcid, kRetryTokenLifetime,
                                         wall_ns()) != 0) {
      spdlog::info("h3 {}: invalid Retry token, refused", d.remote.to_string());
      return send_stateless_close(hd, d, NGTCP2_INVALID_TOKEN);
    }
    info.original_dcid = odcid;
    info.retry_scid = hd.dcid;
    info.address_validated = true;
  } else if (options_.retry) {
    return send_retry(hd, d);
  } else {
    info.header.token = {nullptr, 0};  // an unverified token must not reach ngtcp2
    if (hd.dcid.datalen < NGTCP2_MIN_INITIAL_DCIDLEN) return send_stateless_close(hd, d, NGTCP2_PROTOCOL_VIOLATION);
  }
  auto conn = std::make_shared<H3Connection>(io_, shared_from_this(), ctx_, tls_, d.remote);
  if (!conn->accept(info, d.data)) {
    remove(*conn);
    return;
  }
  spdlog::info("h3 {}: connection accepted{}", conn->peer(), info.retry_scid ? " after Retry" : "");
}

void QuicListener::send_version_negotiation(const ngtcp2_version_cid& vc, const Datagram& d) {
  std::uint8_t buf[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
  std::uint8_t unused = 0;
  (void)gnutls_rnd(GNUTLS_RND_NONCE, &unused, 1);
  // One reserved (GREASE) version first, so clients do not come to depend on the list.
  const std::uint32_t versions[] = {(vc.version & 0xf0f0f0f0u) | NGTCP2_RESERVED_VERSION_MASK, NGTCP2_PROTO_VER_V1};
  // Mirrored: the client's SCID is the DCID of our reply.
  const auto n = ngtcp2_pkt_write_version_negotiation(buf, sizeof buf, unused, vc.scid, vc.scidlen, vc.dcid,
                                                      vc.dcidlen, versions, std::size(versions));
  if (n <= 0) return;
  spdlog::debug("h3 {}: version {:#x} not supported, Version Negotiation", d.remote.to_string(), vc.version);
  path_->send(d.remote, {buf, static_cast<std::size_t>(n)}, static_cast<std::size_t>(n));
}

void QuicListener::send_retry(const ngtcp2_pkt_hd& hd, const Datagram& d) {
  ngtcp2_cid retry_scid;
  retry_scid.datalen = kQuicCidLength;
  if (gnutls_rnd(GNUTLS_RND_RANDOM, retry_scid.data, retry_scid.datalen) != 0) return;
  std::uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN];
  // Bound to the exact sockaddr bytes recvmmsg gave us (address and port).
  const auto tokenlen = ngtcp2_crypto_generate_retry_token(token, secret_.data(), secret_.size(), hd.version,
                                                           d.remote.get(), d.remote.len, &retry_scid, &hd.dcid, wall_ns());
  if (tokenlen < 0) return;
  std::uint8_t buf[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
  // Never more than 3x what the client sent: a Retry must not amplify.
  const std::size_t cap = std::min<std::size_t>(sizeof buf, 3 * d.data.size());
  const auto n = ngtcp2_crypto_write_retry(buf, cap, hd.version, &hd.scid, &retry_scid, &hd.dcid, token,
                                           static_cast<std::size_t>(tokenlen));
  if (n <= 0) return;
  spdlog::info("h3 {}: Retry sent (address validation)", d.remote.to_string());
  path_->send(d.remote, {buf, static_cast<std::size_t>(n)}, static_cast<std::size_t>(n));
}

void QuicListener::send_stateless_close(const ngtcp2_pkt_hd& hd, const Datagram& d, std::uint64_t error_code) {
  std::uint8_t buf[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
  const std::size_t cap = std::min<std::size_t>(sizeof buf, 3 * d.data.size());
  // Keys come from the client's DCID (Initial secrets), so dcid/scid are mirrored.
  const auto n = ngtcp2_crypto_write_connection_close(buf, cap, hd.version, &hd.scid, &hd.dcid, error_code, nullptr, 0);
  if (n <= 0) return;
  path_->send(d.remote, {buf, static_cast<std::size_t>(n)}, static_cast<std::size_t>(n));
}

}  // namespace xts::net
