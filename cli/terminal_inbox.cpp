#include "cli/terminal_inbox.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/options.h"

namespace xfer::cli {
namespace {

using json = nlohmann::ordered_json;

const char* kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::Completed: return "completed";
    case EventKind::Failed: return "failed";
    case EventKind::Cancelled: return "cancelled";
    default: return "other";
  }
}

std::optional<EventKind> kind_named(const std::string& name) {
  for (const auto kind : {EventKind::Completed, EventKind::Failed, EventKind::Cancelled})
    if (name == kind_name(kind)) return kind;
  return std::nullopt;
}

}  // namespace

void TerminalInbox::put(const Event& event) {
  if (!event.terminal() || event.seq == 0) return;
  std::lock_guard lock(mutex_);
  events_[event.seq] = event;
}

void TerminalInbox::drain(Engine& engine) {
  // Bounded: the outbox was read at open; nothing new comes from an engine that starts nothing.
  for (int round = 0; round < 100000; ++round) {
    const auto events = engine.next_events(1024, std::chrono::milliseconds(0));
    if (events.empty()) return;
    for (const auto& e : events) put(e);
  }
}

std::vector<Event> TerminalInbox::pending() {
  std::lock_guard lock(mutex_);
  std::vector<Event> out;
  out.reserve(events_.size());
  for (const auto& [seq, e] : events_) out.push_back(e);
  return out;
}

std::size_t TerminalInbox::size() {
  std::lock_guard lock(mutex_);
  return events_.size();
}

Result<void> TerminalInbox::ack(Engine& engine, const std::vector<std::uint64_t>& seqs) {
  // Held across the engine's synced write, so two clients acknowledging the same event cannot
  // both succeed.
  std::lock_guard lock(mutex_);
  std::vector<Event> acked;
  for (const auto seq : seqs) {
    const auto it = events_.find(seq);
    if (it == events_.end())
      return fail(ErrorCategory::NotFound,
                  fmt::format("event {} is not waiting for an acknowledgement (acknowledged already, or no such "
                              "event): nothing was acknowledged", seq));
    acked.push_back(it->second);
  }
  if (auto r = engine.ack(acked); !r) return r;
  for (const auto seq : seqs) events_.erase(seq);
  return {};
}

std::string event_json_line(const Event& e) {
  json j;
  j["v"] = 1;
  j["seq"] = e.seq;
  j["event"] = kind_name(e.kind);
  j["id"] = e.id;
  j["direction"] = direction_name(e.direction);
  j["file"] = e.destination;
  j["bytes"] = e.bytes;
  if (!e.upload_url.empty()) j["upload_url"] = e.upload_url;
  if (!e.digest.empty()) j["digest"] = e.digest;
  j["message"] = e.message;
  if (e.error) {
    j["category"] = std::string(to_string(e.error->category()));
    j["retryable"] = e.error->retryable();
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<Event> event_from_json_line(const std::string& line) {
  const auto j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  const auto kind = kind_named(j.value("event", ""));
  if (!kind || !j.contains("seq") || !j.at("seq").is_number_unsigned()) return std::nullopt;
  Event e;
  e.kind = *kind;
  e.seq = j.at("seq").get<std::uint64_t>();
  e.id = j.value("id", TransferId{0});
  e.direction = j.value("direction", "") == "upload" ? Direction::Upload : Direction::Download;
  e.destination = j.value("file", "");
  e.bytes = j.value("bytes", std::uint64_t{0});
  e.upload_url = j.value("upload_url", "");
  e.digest = j.value("digest", "");
  e.message = j.value("message", "");
  if (j.contains("category"))
    if (const auto c = error_category_named(j.value("category", ""))) e.error = Error(*c, e.message, j.value("retryable", false));
  return e;
}

void print_event_line(const Event& e, std::FILE* out) {
  std::string line = fmt::format("{:>6}  {:<9}  {:>6}  {:<8}  {}", e.seq, kind_name(e.kind), e.id,
                                 direction_name(e.direction), e.destination);
  if (e.kind == EventKind::Completed) line += fmt::format("  ({})", human_bytes(static_cast<double>(e.bytes)));
  else if (!e.message.empty()) line += ": " + e.message;
  std::fprintf(out, "%s\n", line.c_str());
}

}  // namespace xfer::cli
