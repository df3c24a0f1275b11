// Scheduler: which queued transfer starts next. Pure (no I/O, no clock): the engine feeds it
// candidates and asks for the next one whenever capacity frees up.
//
// Policy: the global limit caps active transfers; an origin is eligible when the caller's
// `origin_ready` says so (per-origin limit, circuit breaker); among eligible origins the
// highest-priority head wins, and equal priorities rotate round-robin across origins so one
// busy origin cannot starve the others. Within an origin: priority, then enqueue order.
// Memory: the engine keeps only a window of queued candidates here and pages more from the
// journal, so this holds O(window + active) entries, not one per queued transfer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>

#include <xfer/download_spec.h>

namespace xfer::engine {

struct Candidate {
  TransferId id = 0;
  std::int32_t priority = 0;
  std::string origin;
  std::uint64_t order = 0;  // enqueue order (the transfer id works)
};

class Scheduler {
 public:
  explicit Scheduler(std::uint32_t max_active) : max_active_(max_active) {}

  // False when the id is already queued.
  bool add(const Candidate& candidate);
  bool remove(TransferId id);
  bool contains(TransferId id) const { return index_.contains(id); }
  std::size_t queued() const { return index_.size(); }

  // Removes and returns the next transfer to start, or nullopt (nothing queued, the global
  // limit reached, or no eligible origin). The caller must then call started(origin).
  std::optional<Candidate> next(const std::function<bool(const std::string&)>& origin_ready);

  void started(const std::string& origin);
  void finished(const std::string& origin);
  std::uint32_t active(const std::string& origin) const;
  std::uint32_t active_total() const { return active_total_; }

 private:
  using Key = std::tuple<std::int32_t, std::uint64_t, TransferId>;  // (-priority, order, id)
  struct Entry {
    std::string origin;
    Key key;
  };

  std::uint32_t max_active_;
  std::uint32_t active_total_ = 0;
  std::map<std::string, std::set<Key>> queues_;
  std::unordered_map<std::string, std::uint32_t> active_;
  std::unordered_map<TransferId, Entry> index_;
  std::string last_origin_;
};

}  // namespace xfer::engine
