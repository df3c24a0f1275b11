// MemoryTrimmer: gives freed heap memory back to the kernel after a burst. main.cpp keeps
// freed memory mapped (mallopt) so steady streaming does not mmap/munmap per chunk; the flip
// side is that gigabytes held for stalled peers would stay resident after they leave. Once a
// second, if connections closed or the buffered response bytes dropped by a lot since the
// last look, malloc_trim(0) returns the free pages of every arena.
#pragma once

#include <cstddef>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "testserver/net/connection.h"
#include "testserver/net/response_budget.h"

namespace xts::net {

class MemoryTrimmer {
 public:
  MemoryTrimmer(boost::asio::any_io_executor executor, const ConnectionRegistry& registry,
                std::shared_ptr<ResponseBudget> budget);
  void start();
  void stop();

 private:
  void tick();

  boost::asio::steady_timer timer_;
  const ConnectionRegistry& registry_;
  std::shared_ptr<ResponseBudget> budget_;
  std::size_t last_connections_ = 0;
  bool stopped_ = false;
};

}  // namespace xts::net
