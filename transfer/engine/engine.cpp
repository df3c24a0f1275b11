// The public Engine: validates and journals requests on the caller's thread (the journal is
// thread-safe), then marshals everything that touches engine state onto the loop thread.
#include <xfer/engine.h>

#include <future>
#include <map>
#include <set>

#include <fmt/format.h>

#include "base/crash_point.h"
#include "protocols/http/digest_fields.h"
#include "protocols/http/url.h"
#include "transfer/engine/engine_thread.h"
#include "transfer/engine/secrets.h"
#include "transfer/engine/upload_checks.h"
#include "transfer/files/destination_check.h"

namespace xfer {

Engine::Engine(std::unique_ptr<detail::EngineThread> thread) : thread_(std::move(thread)) {}

Engine::~Engine() { (void)shutdown(); }

Result<std::unique_ptr<Engine>> Engine::open(const std::string& journal_dir, EngineConfig config) {
  return open_with(journal_dir, std::move(config), EngineParts{});
}

Result<std::unique_ptr<Engine>> Engine::open_with(const std::string& journal_dir,
                                                  EngineConfig config, EngineParts parts) {
  return detail::open_engine(journal_dir, std::move(config), detail::EngineDeps::from(parts));
}

namespace detail {

Result<std::unique_ptr<Engine>> open_engine(const std::string& journal_dir, EngineConfig config,
                                            EngineDeps deps) {
  auto thread = EngineThread::start(journal_dir, std::move(config), std::move(deps));
  if (!thread) return std::unexpected(thread.error());
  return std::unique_ptr<Engine>(new Engine(std::move(*thread)));
}

}  // namespace detail

namespace {
Result<void> not_running() {
  return fail(ErrorCategory::InvalidArgument, "the engine has been shut down");
}
}  // namespace

Result<TransferId> Engine::enqueue(TransferSpec spec) {
  std::vector<TransferSpec> one;
  one.push_back(std::move(spec));
  auto ids = enqueue(std::move(one));
  if (!ids) return std::unexpected(ids.error());
  return ids->front();
}

Result<std::vector<TransferId>> Engine::enqueue(std::vector<DownloadSpec> specs) {
  std::vector<TransferSpec> all;
  all.reserve(specs.size());
  for (auto& s : specs) all.emplace_back(std::move(s));
  return enqueue(std::move(all));
}

Result<std::vector<TransferId>> Engine::enqueue(std::vector<TransferSpec> specs) {
  if (thread_->stopped()) return std::unexpected(not_running().error());
  auto& journal = thread_->journal();
  auto& fs = thread_->core().file_system();
  store::Batch batch;
  std::vector<TransferId> ids;
  std::vector<std::pair<std::int32_t, std::string>> admits;
  std::vector<std::pair<TransferId, Credentials>> secrets;
  const auto now = thread_->clock().unix_millis();
  // Checked before anything is journaled, so one bad spec queues nothing.
  std::map<std::string, const DownloadSpec*> destinations;
  std::set<std::string> checked_parents;
  for (const auto& any : specs) {
    if (const auto* up = std::get_if<UploadSpec>(&any)) {
      if (auto r = engine::check_upload_spec(fs, *up); !r) return std::unexpected(r.error());
      continue;
    }
    const auto& spec = std::get<DownloadSpec>(any);
    if (auto r = files::check_destination(fs, spec.destination, &checked_parents); !r)
      return std::unexpected(r.error());
    const auto [it, fresh] = destinations.emplace(spec.destination, &spec);
    if (!fresh)
      return fail(ErrorCategory::InvalidArgument,
                  fmt::format("{} and {} would both be saved as {}", it->second->url, spec.url,
                              spec.destination));
  }
  for (auto& any : specs) {
    const std::string& spec_url = std::visit([](const auto& s) -> const std::string& { return s.url; }, any);
    // The one URL parser decides, and says what is wrong with a URL it refuses.
    auto url = protocols::Url::parse_http(spec_url);
    if (!url) return std::unexpected(url.error());
    std::string origin = url->origin();
    auto id = journal.next_transfer_id();
    if (!id) return std::unexpected(id.error());
    store::TransferRecord record;
    record.id = *id;
    record.state = TransferState::Queued;
    record.created_at = record.updated_at = now;
    HeaderList headers;
    if (auto* down = std::get_if<DownloadSpec>(&any)) {
      if (down->destination.empty())
        return fail(ErrorCategory::InvalidArgument, "no destination path");
      if (!down->checksum.empty()) {
        if (auto c = protocols::parse_user_checksum(down->checksum); !c)
          return std::unexpected(c.error());
      }
      record.direction = Direction::Download;
      record.local_path = std::move(down->destination);
      record.protocol = down->protocol;
      record.checksum = std::move(down->checksum);
      record.segment_count = std::max<std::uint32_t>(down->segments, 1);
      record.priority = down->priority;
      headers = std::move(down->headers);
    } else {
      auto& up = std::get<UploadSpec>(any);
      record.direction = Direction::Upload;
      record.local_path = std::move(up.source);
      record.protocol = up.protocol_version;
      record.checksum = std::move(up.checksum);
      record.priority = up.priority;
      headers = std::move(up.headers);
      batch.put_upload(engine::initial_upload_record(*id, up));
    }
    // Secrets stay in memory (design.md invariant 7's sibling: nothing secret on disk).
    auto split = engine::split_secrets(spec_url, headers);
    record.url = std::move(split.url);
    record.request_headers = std::move(split.headers);
    record.withheld_secrets = std::move(split.withheld);
    if (!record.withheld_secrets.empty()) secrets.emplace_back(*id, std::move(split.secrets));
    batch.put_transfer(record);
    ids.push_back(*id);
    admits.emplace_back(record.priority, std::move(origin));
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

Result<void> Engine::set_rate_limits(std::uint64_t global, std::uint64_t per_transfer) {
  if (thread_->stopped()) return not_running();
  thread_->call([&] { thread_->core().set_rate_limits(global, per_transfer); });
  return {};
}

Result<TransferStatus> Engine::status(TransferId id) {
  if (thread_->stopped()) return std::unexpected(not_running().error());
  return thread_->call([&] { return thread_->core().status(id); });
}

namespace {
Result<void> announce_growth(detail::EngineThread& thread, TransferId id, std::uint64_t size, bool ended) {
  // The answer may come after a synced journal write on the pool: waited for off the loop.
  auto answer = std::make_shared<std::promise<Result<void>>>();
  auto future = answer->get_future();
  thread.call([&] {
    thread.core().source_grew(id, size, ended, [answer](Result<void> r) { answer->set_value(std::move(r)); });
  });
  return future.get();
}
}  // namespace

Result<void> Engine::source_grew(TransferId id, std::uint64_t size) {
  if (thread_->stopped()) return not_running();
  return announce_growth(*thread_, id, size, false);
}

Result<void> Engine::source_ended(TransferId id, std::uint64_t size) {
  if (thread_->stopped()) return not_running();
  return announce_growth(*thread_, id, size, true);
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
    // A failed transfer may keep its .part (or its resource on the server) for a later
    // resume(); only finished ones own nothing.
    out.push_back({r.id, r.direction, r.local_path, r.state,
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

std::vector<Event> Engine::next_events(std::size_t max, std::chrono::milliseconds timeout,
                                       std::chrono::milliseconds linger) {
  return thread_->events().take(max, timeout, linger);
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
