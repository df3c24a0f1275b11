// BlockingPool: a couple of threads for work that may block (fsync, rename, leveldb sync
// writes, hashing whole files) so the event loop keeps serving. run() does the work on the
// pool, then posts the completion back to the given executor. Work that throws is logged and
// its completion dropped: an exception on a pool thread would otherwise end the process.
#pragma once

#include <functional>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>

namespace xts {

class BlockingPool {
 public:
  explicit BlockingPool(std::size_t threads) : pool_(threads) {}
  ~BlockingPool() { pool_.join(); }

  template <typename Work, typename Done>
  void run(boost::asio::any_io_executor ex, Work work, Done done) {
    boost::asio::post(pool_, [ex, work = std::move(work), done = std::move(done)]() mutable {
      try {
        auto result = work();
        boost::asio::post(ex, [done = std::move(done), result = std::move(result)]() mutable {
          done(std::move(result));
        });
      } catch (const std::exception& e) {
        spdlog::error("blocking job threw: {}", e.what());
      }
    });
  }

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace xts
