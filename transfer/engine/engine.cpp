// The public Engine: validates and journals requests on the caller's thread (the journal is
// thread-safe), then marshals everything that touches engine state onto the loop thread.
#include <xfer/engine.h>

#include <map>
#include <set>

#include <fmt/format.h>

#include "base/crash_point.h"
#include "protocols/http/digest_fields.h"
#include "protocols/http/url.h"
#include "transfer/engine/default_transport.h"
#include "transfer/engine/engine_thread.h"
#include "transfer/engine/secrets.h"
#include "transfer/files/destination_check.h"

namespace xfer {

Engine::Engine(std::unique_ptr<detail::EngineThread> thread) : thread_(std::move(thread)) {}

Engine::~Engine() { (void)shutdown(); }

Result<std::unique_ptr<Engine>> Engine::open(const std::string& journal_dir, EngineConfig config) {
  detail::EngineDeps deps;
  deps.transport = engine::default_transport_factory();
  return open_with(journal_dir, std::move(config), std::move(deps));
}

Result<std::unique_ptr<Engine>> Engine::open_with(const std::string& journal_dir,
                                                  EngineConfig config, detail::EngineDeps deps) {
  auto thread = detail::EngineThread::start(journal_dir, std::move(config), std::move(deps));
  if (!thread) return std::unexpected(thread.error());
  return std::unique_ptr<Engine>(new Engine(std::move(*thread)));
}

namespace {
Result<void> not_running() {
  return fail(ErrorCategory::InvalidArgument, "the engine has been shut down");
}
}  // namespace

Result<TransferId> Engine::enqueue(DownloadSpec spec) {
  std::vector<DownloadSpec> one;
  one.push_back(std::move(spec));
  auto ids = enqueue(std::move(one));
  if (!ids) return std::unexpected(ids.error());
  return ids->front();
}

Result<std::vector<TransferId>> Engine::enqueue(std::vector<DownloadSpec> specs) {
  if (thread_->stopped()) return std::unexpected(not_running().error());
  auto& journal = thread_->journal();
  store::Batch batch;
  std::vector<TransferId> ids;
  std::vector<std::pair<std::int32_t, std::string>> admits;
  std::vector<std::pair<TransferId, Credentials>> secrets;
  const auto now = thread_->clock().unix_millis();
  // Checked before anything is journaled, so one bad destination queues nothing.
  std::map<std::string, const DownloadSpec*> destinations;
  std::set<std::string> checked_parents;
  for (const auto& spec : specs) {
    if (auto r = files::check_destination(thread_->core().file_system(), spec.destination,
                                          &checked_parents);
        !r)
      return std::unexpected(r.error());
    const auto [it, fresh] = destinations.emplace(spec.destination, &spec);
    if (!fresh)
      return fail(ErrorCategory::InvalidArgument,
                  fmt::format("{} and {} would both be saved as {}", it->second->url, spec.url,
                              spec.destination));
  }
  for (auto& spec : specs) {
    // The one URL parser decides, and says what is wrong with a URL it refuses.
    auto url = protocols::Url::parse_http(spec.url);
    if (!url) return std::unexpected(url.error());
    std::string origin = url->origin();
    if (spec.destination.empty())
      return fail(ErrorCategory::InvalidArgument, "no destination path");
    if (!spec.checksum.empty()) {
      if (auto c = protocols::parse_user_checksum(spec.checksum); !c)
        return std::unexpected(c.error());
    }
    auto id = journal.next_transfer_id();
    if (!id) return std::unexpected(id.error());
    // Secrets stay in memory (design.md invariant 7's sibling: nothing secret on disk).
    auto split = engine::split_secrets(spec.url, spec.headers);
    store::TransferRecord record;
    record.id = *id;
    record.direction = Direction::Download;
    record.url = std::move(split.url);
    record.local_path = std::move(spec.destination);
    record.request_headers = std::move(split.headers);
    record.withheld_secrets = std::move(split.withheld);
    if (!record.withheld_secrets.empty()) secrets.emplace_back(*id, std::move(split.secrets));
    record.protocol = spec.protocol;
    record.state = TransferState::Queued;
    record.checksum = std::move(spec.checksum);
    record.segment_count = std::max<std::uint32_t>(spec.segments, 1);
    record.priority = spec.priority;
    record.created_at = record.updated_at = now;
    batch.put_transfer(record);
    ids.push_back(*id);
    admits.emplace_back(spec.priority, std::move(origin));
  }
  if (ids.empty()) return ids;
  if (auto r = journal.commit(std::move(batch), store::Durability::Synced); !r)
    return std::unexpected(r.error());
  thread_->call([&] {
    for (auto& [id, credentials] : secrets)
      thread_->core().remember_credentials(id, std::move(credentials));
    for (std::size_t i = 0; i < ids.size(); ++i)
      thread_->core().admit(ids[i], admits[i].first, admits[i].second);
  });
  return ids;
}

Result<void> Engine::pause(TransferId id) {
  if (thread_->stopped()) return not_running();
  return thread_->call([&] { return thread_->core().pause(id); });
}

Result<void> Engine::resume(TransferId id) {
  if (thread_->stopped()) return not_running();
  return thread_->call([&] { return thread_->core().resume(id); });
}

Result<void> Engine::cancel(TransferId id) {
  if (thread_->stopped()) return not_running();
  return thread_->call([&] { return thread_->core().cancel(id); });
}

Result<TransferStatus> Engine::status(TransferId id) {
  if (thread_->stopped()) return std::unexpected(not_running().error());
  return thread_->call([&] { return thread_->core().status(id); });
}

std::vector<TransferStatus> Engine::active_transfers() {
  if (thread_->stopped()) return {};
  return thread_->call([&] { return thread_->core().in_memory(); });
}

std::size_t Engine::unfinished_count() { return unfinished_ids().size(); }

// On the caller's thread (the journal is thread-safe): with 100,000 queued the scan takes a
// noticeable time, which must not stall the loop that moves bytes.
std::vector<TransferId> Engine::unfinished_ids() {
  std::vector<TransferId> ids;
  if (thread_->stopped()) return ids;
  (void)thread_->journal().scan_unfinished([&](const store::TransferRecord& r) {
    ids.push_back(r.id);
    return true;
  });
  return ids;
}

Result<std::vector<JournaledPath>> Engine::journaled_paths() {
  std::vector<JournaledPath> out;
  if (thread_->stopped()) return std::unexpected(not_running().error());
  auto scanned = thread_->journal().scan_all([&](const store::TransferRecord& r) {
    // A failed transfer may keep its .part for a later resume(); only finished ones own none.
    out.push_back({r.id, r.local_path,
                   r.state != TransferState::Completed &&
                       r.state != TransferState::Cancelled});
    return true;
  });
  if (!scanned) return std::unexpected(scanned.error());
  return out;
}

std::optional<Event> Engine::next_event(std::chrono::milliseconds timeout) {
  return thread_->events().next(timeout);
}

Result<void> Engine::ack(const Event& event) { return ack(std::vector<Event>{event}); }

Result<void> Engine::ack(const std::vector<Event>& events) {
  store::Batch batch;
  for (const auto& event : events) {
    if (!event.terminal() || event.seq == 0)
      return fail(ErrorCategory::InvalidArgument, "only terminal events are acknowledged");
    batch.ack_event(event.seq);
  }
  if (thread_->stopped()) return not_running();
  if (events.empty()) return {};
  crash_point("before-ack");
  return thread_->journal().commit(std::move(batch), store::Durability::Synced);
}

Result<void> Engine::shutdown() {
  if (!thread_) return {};
  return thread_->shutdown();
}

}  // namespace xfer
