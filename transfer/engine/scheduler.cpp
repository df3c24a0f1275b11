#include "transfer/engine/scheduler.h"

namespace xfer::engine {

bool Scheduler::add(const Candidate& c) {
  if (index_.contains(c.id)) return false;
  Key key{-c.priority, c.order, c.id};
  queues_[c.origin].insert(key);
  index_.emplace(c.id, Entry{c.origin, key});
  return true;
}

bool Scheduler::remove(TransferId id) {
  const auto it = index_.find(id);
  if (it == index_.end()) return false;
  const auto q = queues_.find(it->second.origin);
  q->second.erase(it->second.key);
  if (q->second.empty()) queues_.erase(q);
  index_.erase(it);
  return true;
}

std::optional<Candidate> Scheduler::next(
    const std::function<bool(const std::string&)>& origin_ready) {
  if (active_total_ >= max_active_ || queues_.empty()) return std::nullopt;
  // Visit origins in rotation order starting after the last one served; keep the first origin
  // whose head has the best priority.
  auto start = queues_.upper_bound(last_origin_);
  const std::string* best_origin = nullptr;
  const Key* best_key = nullptr;
  auto visit = [&](auto it) {
    const Key& head = *it->second.begin();
    if (best_key && std::get<0>(head) >= std::get<0>(*best_key)) return;
    if (!origin_ready(it->first)) return;
    best_origin = &it->first;
    best_key = &head;
  };
  for (auto it = start; it != queues_.end(); ++it) visit(it);
  for (auto it = queues_.begin(); it != start; ++it) visit(it);
  if (!best_key) return std::nullopt;

  const Key key = *best_key;
  Candidate out{std::get<2>(key), -std::get<0>(key), *best_origin, std::get<1>(key)};
  last_origin_ = out.origin;
  remove(out.id);
  return out;
}

void Scheduler::started(const std::string& origin) {
  ++active_[origin];
  ++active_total_;
}

void Scheduler::finished(const std::string& origin) {
  const auto it = active_.find(origin);
  if (it == active_.end() || it->second == 0) return;
  if (--it->second == 0) active_.erase(it);
  if (active_total_ > 0) --active_total_;
}

std::uint32_t Scheduler::active(const std::string& origin) const {
  const auto it = active_.find(origin);
  return it == active_.end() ? 0 : it->second;
}

}  // namespace xfer::engine
