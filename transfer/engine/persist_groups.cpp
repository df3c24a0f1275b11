#include "transfer/engine/persist_groups.h"

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

#include "base/crash_point.h"

namespace xfer::engine {
namespace {

// Runs one group on a pool thread; returns each member's outcome, in order.
std::vector<Result<void>> run_group(std::vector<PersistItem>& members, store::Journal& journal,
                                    files::FileSystem& fs) {
  for (auto& m : members)
    if (m.start_flush) m.start_flush();

  std::vector<Result<void>> outcome(members.size());
  std::vector<store::Batch> batches(members.size());
  for (std::size_t i = 0; i < members.size(); ++i) outcome[i] = members[i].build(batches[i]);

  // One fsync per directory, for every member that renamed a file into it.
  std::map<std::string, std::vector<std::size_t>> directories;
  for (std::size_t i = 0; i < members.size(); ++i)
    if (outcome[i] && !members[i].directory.empty())
      directories[members[i].directory].push_back(i);
  for (const auto& [directory, users] : directories) {
    auto synced = fs.sync_dir(directory);
    if (synced) crash_point("finalize-dir-synced");
    if (!synced)
      for (auto i : users) outcome[i] = std::unexpected(synced.error());
  }

  store::Batch all;
  std::size_t carried = 0;
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (!outcome[i]) continue;
    all.append(std::move(batches[i]));
    ++carried;
  }
  if (carried == 0) return outcome;
  if (auto committed = journal.commit(std::move(all), store::Durability::Synced); !committed) {
    for (auto& o : outcome)
      if (o) o = std::unexpected(committed.error());
    return outcome;
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (!outcome[i]) continue;
    crash_point(members[i].committed_point);
    if (members[i].after) members[i].after();
  }
  return outcome;
}

}  // namespace

PersistGroups::PersistGroups(boost::asio::io_context& loop, BlockingPool& pool,
                             store::Journal& journal, files::FileSystem& fs,
                             std::size_t groups_in_flight, std::size_t max_members)
    : loop_(loop),
      pool_(pool),
      journal_(journal),
      fs_(fs),
      groups_in_flight_(groups_in_flight == 0 ? 1 : groups_in_flight),
      max_members_(max_members == 0 ? 1 : max_members) {}

void PersistGroups::submit(PersistItem item) {
  state_->waiting.push_back(std::move(item));
  dispatch();
}

void PersistGroups::dispatch() {
  auto& s = *state_;
  while (s.in_flight < groups_in_flight_ && !s.waiting.empty()) {
    // Members shared out between the free slots: a burst of jobs becomes several groups that
    // flush side by side rather than one long one and idle slots.
    const std::size_t free_slots = groups_in_flight_ - s.in_flight;
    std::size_t take = (s.waiting.size() + free_slots - 1) / free_slots;
    if (take > max_members_) take = max_members_;
    auto members = std::make_shared<std::vector<PersistItem>>();
    members->reserve(take);
    for (std::size_t i = 0; i < take; ++i) {
      members->push_back(std::move(s.waiting.front()));
      s.waiting.pop_front();
    }
    ++s.in_flight;
    ++s.groups_run;
    s.members_run += members->size();
    pool_.run(
        [members, &journal = journal_, &fs = fs_] { return run_group(*members, journal, fs); },
        [this, weak = std::weak_ptr<State>(state_), members](std::vector<Result<void>> outcome) {
          for (std::size_t i = 0; i < members->size(); ++i) (*members)[i].done(std::move(outcome[i]));
          auto state = weak.lock();
          if (!state) return;
          --state->in_flight;
          dispatch();
        });
  }
}

}  // namespace xfer::engine
