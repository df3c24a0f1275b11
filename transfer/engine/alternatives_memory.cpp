#include "transfer/engine/alternatives_memory.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "protocols/http/alt_svc.h"

namespace xfer::engine {
namespace {

// An advertised lifetime beyond this is taken as this: a value from a misconfigured server must
// not pin an origin to an endpoint for years.
constexpr std::uint64_t kLongestMaxAgeSeconds = 30ull * 24 * 3600;
constexpr std::int64_t kRewriteWhenLongerByMs = 3600 * 1000;

bool same_endpoints(const std::vector<AlternativeService>& a, const std::vector<AlternativeService>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.alpn == y.alpn && x.host == y.host && x.port == y.port;
  });
}

bool pushed_out(const std::vector<AlternativeService>& before, const std::vector<AlternativeService>& now) {
  for (std::size_t i = 0; i < before.size() && i < now.size(); ++i)
    if (now[i].expires_at - before[i].expires_at > kRewriteWhenLongerByMs) return true;
  return false;
}

// A shorter lifetime than the journal holds (a server phasing an alternative out).
bool pulled_in(const std::vector<AlternativeService>& before, const std::vector<AlternativeService>& now) {
  for (std::size_t i = 0; i < before.size() && i < now.size(); ++i)
    if (now[i].expires_at < before[i].expires_at) return true;
  return false;
}

}  // namespace

void AlternativesMemory::load(const std::string& origin, protocols::Transport& transport) {
  if (!origin.starts_with("https://") || !loaded_.insert(origin).second) return;
  auto record = journal_.get_origin(origin);
  if (!record) {
    spdlog::warn("origin {}: reading its alternative services: {}", origin, record.error().describe());
    return;
  }
  if (!*record) return;
  Known known;
  const auto now = clock_.unix_millis();
  for (const auto& s : (*record)->alt_svc)
    if (s.expires_at > now) known.services.push_back(s);
  if ((*record)->h3_broken_until > now) {
    known.h3_broken_until = (*record)->h3_broken_until;
    transport.remember_quic_broken(origin, std::chrono::milliseconds(known.h3_broken_until - now));
  }
  if (known.services.empty() && known.h3_broken_until == 0) return;
  written_[origin] = known;
  if (!known.services.empty()) transport.remember_alternatives(origin, std::move(known.services));
}

void AlternativesMemory::broken(const std::string& origin, std::chrono::milliseconds how_long) {
  if (!origin.starts_with("https://")) return;
  Known& known = written_[origin];
  known.h3_broken_until = clock_.unix_millis() + how_long.count();
  journal_write(origin, known);
}

void AlternativesMemory::seen(const std::string& origin, const std::string& value, std::uint64_t age_seconds,
                              protocols::Transport& transport) {
  // HTTP/3 has no cleartext form: an http:// origin's alternatives are nothing we could use.
  if (!origin.starts_with("https://")) return;
  auto field = protocols::parse_alt_svc(value);
  if (!field) return;
  load(origin, transport);
  const auto now = clock_.unix_millis();
  std::vector<AlternativeService> services;
  if (!field->clear)
    for (const auto& e : field->entries) {
      if (e.alpn != "h3") continue;  // the only alternative this engine speaks
      const auto advertised = std::min(e.max_age_seconds, kLongestMaxAgeSeconds);
      if (advertised <= age_seconds) continue;  // expired while the response sat in a cache
      const auto ma = advertised - age_seconds;
      services.push_back({e.alpn, e.host, e.port, now + static_cast<std::int64_t>(ma) * 1000});
    }
  // The router always hears the latest (a short ma must keep working, a shortened one must
  // shorten); the journal only when it would be wrong otherwise.
  transport.remember_alternatives(origin, services);
  Known& written = written_[origin];
  if (same_endpoints(written.services, services) && !pushed_out(written.services, services) &&
      !pulled_in(written.services, services))
    return;
  written.services = services;
  journal_write(origin, written);
}

void AlternativesMemory::journal_write(const std::string& origin, const Known& known) {
  store::OriginRecord record;
  record.origin = origin;
  record.alt_svc = known.services;
  record.h3_broken_until = known.h3_broken_until;
  store::Batch batch;
  batch.put_origin(record, store::OriginFields::Alternatives);
  if (auto r = journal_.commit(std::move(batch), store::Durability::Buffered); !r)
    spdlog::warn("origin {}: remembering its alternative services: {}", origin, r.error().describe());
}

}  // namespace xfer::engine
