// PersistGroups: group commit of the persist jobs of every task (checkpoints, finalizes,
// stops). A job submitted while earlier groups are on the blocking pool waits and leaves with
// the others that arrived meanwhile, as one group: writeback of every member's data is started
// first, then each member's file work runs (fdatasync / verify, fsync, rename), each directory
// that gained a file is fsync'ed once, and one synced journal write records every member. A
// lone job leaves at once, so an idle engine adds no latency; under load, a thousand small
// files cost a few dozen journal flushes and directory flushes instead of a thousand each.
//
// Order per member, as when it ran alone (design.md invariants 1 and 2): its data is durable
// before its rename, its directory before the commit that says it is complete, and nothing of
// a member whose file work failed is committed. Members are independent: one member's failure
// is only its own, except a failed journal write, which fails every member it carried.
// Every method is called on the loop thread.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include <xfer/error.h>

#include "store/journal.h"
#include "transfer/engine/blocking_pool.h"
#include "transfer/files/file_system.h"

namespace xfer::engine {

struct PersistItem {
  // Optional: asks the kernel to start writing the member's data back, so that the flushes of a
  // group's members overlap on the device instead of queueing behind each other.
  std::function<void()> start_flush;
  // The member's file work; adds its records to the batch. An error leaves the member out.
  std::function<Result<void>(store::Batch&)> build;
  // Fsync'ed after `build` succeeded and before the commit (empty: none).
  std::string directory;
  // After the commit succeeded (best effort, on the pool thread).
  std::function<void()> after;
  // Crash point reached once the member's records are committed (tests).
  const char* committed_point = "checkpoint-journaled";
  // On the loop thread, with the member's outcome.
  std::function<void(Result<void>)> done;
};

class PersistGroups {
 public:
  static constexpr std::size_t kDefaultGroupsInFlight = 4;
  static constexpr std::size_t kDefaultMaxMembers = 64;

  PersistGroups(boost::asio::io_context& loop, BlockingPool& pool, store::Journal& journal,
                files::FileSystem& fs, std::size_t groups_in_flight = kDefaultGroupsInFlight,
                std::size_t max_members = kDefaultMaxMembers);

  void submit(PersistItem item);

  // How many groups and members have left so far (for tests and benchmarks).
  std::size_t groups_run() const { return state_->groups_run; }
  std::size_t members_run() const { return state_->members_run; }

 private:
  struct State {
    std::deque<PersistItem> waiting;
    std::size_t in_flight = 0;
    std::size_t groups_run = 0;
    std::size_t members_run = 0;
  };
  void dispatch();

  boost::asio::io_context& loop_;
  BlockingPool& pool_;
  store::Journal& journal_;
  files::FileSystem& fs_;
  std::size_t groups_in_flight_;
  std::size_t max_members_;
  // Shared with the completions posted back to the loop, which may outlive this object.
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace xfer::engine
