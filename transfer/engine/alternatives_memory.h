// AlternativesMemory: the alternative services (RFC 7838 Alt-Svc) each https origin advertised,
// kept in the journal's origin records so that the next run goes straight to HTTP/3, and handed
// to the transport, whose router uses a live "h3" one with TCP as the fallback.
//
// The journal is a cache here, written unsynced and only when something changed (another
// endpoint, an expiry pushed out by more than an hour, or pulled in): a response per file of a
// batch of 100,000 must not cost a journal write each. Losing the latest entry in a crash costs
// one TCP connection until the origin says it again. Only the record's alternatives are
// written (OriginFields::Alternatives): an upload's facts about the origin stay. An origin whose
// HTTP/3 failed is kept too, with the time until which TCP is used without trying it.
//
// Threading: the engine's loop thread.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/alt_service.h"
#include "base/clock.h"
#include "protocols/transport.h"
#include "store/journal.h"

namespace xfer::engine {

class AlternativesMemory {
 public:
  AlternativesMemory(store::Journal& journal, const Clock& clock) : journal_(journal), clock_(clock) {}

  // Before the first exchange with `origin` in this process: what the journal remembers.
  void load(const std::string& origin, protocols::Transport& transport);
  // The transport found `origin`'s HTTP/3 not working and goes to TCP for `how_long`: the
  // next run on this journal does too, instead of trying and waiting for the fallback again.
  void broken(const std::string& origin, std::chrono::milliseconds how_long);
  // A response from `origin`, `age_seconds` old, carried `Alt-Svc: value`.
  void seen(const std::string& origin, const std::string& value, std::uint64_t age_seconds,
            protocols::Transport& transport);

 private:
  struct Known {
    std::vector<AlternativeService> services;
    store::UnixMillis h3_broken_until = 0;
  };
  void journal_write(const std::string& origin, const Known& known);

  store::Journal& journal_;
  const Clock& clock_;
  std::set<std::string> loaded_;
  std::map<std::string, Known> written_;  // what the journal has
};

}  // namespace xfer::engine
