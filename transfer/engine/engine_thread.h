// EngineThread: the thread and Boost.Asio loop an Engine runs on, and the marshalling of public
// calls onto it (post, then wait for the answer). Owns the journal, the event hub and the
// EngineCore; tears them down in the order the threading model needs (tasks and transport on
// the loop thread, then the blocking pool, then the journal).
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <xfer/engine.h>
#include <xfer/engine_config.h>
#include <xfer/engine_parts.h>

#include "store/journal.h"
#include "base/clock.h"
#include "transfer/engine/engine_core.h"
#include "transfer/engine/engine_parts_access.h"
#include "transfer/engine/event_hub.h"
#include "transfer/files/file_system.h"

namespace xfer::detail {

// Everything an engine runs on. Engine::open_with fills transport and journal from the public
// EngineParts; the engine's tests also substitute the file system and the clock.
struct EngineDeps {
  engine::TransportFactory transport;  // required
  files::FileSystem* file_system = nullptr;  // nullptr: POSIX
  const Clock* clock = nullptr;              // nullptr: the system clock
  JournalOpener journal;                     // empty: the default backend (leveldb)

  static EngineDeps from(const EngineParts& parts);
};

// Engine::open_with with every dependency substitutable (for the engine's tests).
Result<std::unique_ptr<Engine>> open_engine(const std::string& journal_dir, EngineConfig config,
                                            EngineDeps deps);

class EngineThread {
 public:
  static Result<std::unique_ptr<EngineThread>> start(const std::string& journal_dir,
                                                     EngineConfig config, EngineDeps deps);
  ~EngineThread();

  // Runs fn on the loop thread and returns its result.
  template <typename Fn>
  auto call(Fn fn) -> std::invoke_result_t<Fn> {
    using R = std::invoke_result_t<Fn>;
    if (std::this_thread::get_id() == thread_.get_id()) return fn();
    std::promise<R> promise;
    auto future = promise.get_future();
    boost::asio::post(io_, [&] {
      if constexpr (std::is_void_v<R>) {
        fn();
        promise.set_value();
      } else {
        promise.set_value(fn());
      }
    });
    return future.get();
  }

  engine::EngineCore& core() { return *core_; }
  store::Journal& journal() { return *journal_; }
  engine::EventHub& events() { return *events_; }
  const Clock& clock() const { return *clock_; }
  bool stopped() const { return stopped_; }
  Result<void> shutdown();

 private:
  EngineThread() = default;

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::unique_ptr<store::Journal> journal_;
  std::unique_ptr<engine::EventHub> events_;
  SystemClock system_clock_;
  const Clock* clock_ = nullptr;
  std::unique_ptr<engine::EngineCore> core_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace xfer::detail
