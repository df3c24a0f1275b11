// TerminalInbox: the terminal events (completed, failed, cancelled) of a journal that nobody has
// acknowledged yet, held for whoever asks: `xfer events` lists them, `xfer events --ack SEQ`
// acknowledges them. The engine's outbox is what makes them durable (it delivers every
// unacknowledged one again after a restart, design.md invariant 5); this is where they wait in
// between. An acknowledgement is all or none, and one that names an event not waiting here (acked
// already, by another client) is refused: of several clients, exactly one acknowledges each event.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <xfer/engine.h>

namespace xfer::cli {

class TerminalInbox {
 public:
  void put(const Event& event);
  // Every terminal event the engine has ready now (the ones redelivered at open included);
  // the others are dropped. For a run that starts no transfer.
  void drain(Engine& engine);
  // In outbox order.
  std::vector<Event> pending();
  Result<void> ack(Engine& engine, const std::vector<std::uint64_t>& seqs);
  std::size_t size();

 private:
  std::mutex mutex_;
  std::map<std::uint64_t, Event> events_;  // by outbox seq
};

// One terminal event as one JSON line (no newline) — docs/cli.md "xfer events" — and back.
std::string event_json_line(const Event& event);
std::optional<Event> event_from_json_line(const std::string& line);
// For people: one line.
void print_event_line(const Event& event, std::FILE* out);

}  // namespace xfer::cli
