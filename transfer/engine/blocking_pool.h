// BlockingPool: a few threads for the calls that block on the disk (fdatasync, fsync, synced
// journal writes, whole-file digests), so the engine's loop thread never waits on storage.
// run(work, done): `work` runs on a pool thread; `done(result)` is then posted to the loop's
// io_context. Callers guard their own lifetime (capture a weak_ptr) because `done` may run
// after the requester is gone. join() waits for every queued job.
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace xfer::engine {

class BlockingPool {
 public:
  BlockingPool(boost::asio::io_context& loop, std::size_t threads)
      : loop_(loop), pool_(threads) {}
  ~BlockingPool() { join(); }

  template <typename Work, typename Done>
  void run(Work work, Done done) {
    boost::asio::post(pool_, [this, work = std::move(work), done = std::move(done)]() mutable {
      auto result = work();
      boost::asio::post(loop_, [done = std::move(done), result = std::move(result)]() mutable {
        done(std::move(result));
      });
    });
  }

  void join() { pool_.join(); }

 private:
  boost::asio::io_context& loop_;
  boost::asio::thread_pool pool_;
};

}  // namespace xfer::engine
