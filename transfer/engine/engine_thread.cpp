#include "transfer/engine/engine_thread.h"

#include <chrono>

#include <spdlog/spdlog.h>

namespace xfer::detail {

Result<std::unique_ptr<EngineThread>> EngineThread::start(const std::string& journal_dir,
                                                          EngineConfig config, EngineDeps deps) {
  std::unique_ptr<EngineThread> self(new EngineThread());
  store::JournalOptions options;
  options.directory = journal_dir;
  auto journal = deps.journal ? deps.journal(options) : store::Journal::open(options);
  if (!journal) return std::unexpected(journal.error().with_context("opening journal " + journal_dir));
  self->journal_ = std::move(*journal);
  self->events_ = std::make_unique<engine::EventHub>(config.on_event);
  self->clock_ = deps.clock ? deps.clock : &self->system_clock_;
  files::FileSystem& fs = deps.file_system ? *deps.file_system : files::posix_file_system();
  self->core_ = std::make_unique<engine::EngineCore>(self->io_, std::move(config), *self->journal_,
                                                     fs, *self->clock_, *self->events_);
  self->work_.emplace(self->io_.get_executor());
  self->thread_ = std::thread([io = &self->io_] {
    for (;;) {
      try {
        io->run();
        return;
      } catch (const std::exception& e) {
        // Nothing should throw on the loop; if something does, log it and keep the loop alive.
        spdlog::error("engine loop: unexpected exception: {}", e.what());
      }
    }
  });
  if (!deps.transport) {
    (void)self->shutdown();
    return fail(ErrorCategory::Internal, "the engine was started without a transport");
  }
  auto started = self->call([&] { return self->core_->start(deps.transport); });
  if (!started) {
    (void)self->shutdown();
    return std::unexpected(started.error());
  }
  return self;
}

Result<void> EngineThread::shutdown() {
  if (stopped_) return {};
  stopped_ = true;
  if (!thread_.joinable()) {  // never started (the journal did not open)
    core_.reset();
    if (events_) events_->close();
    journal_.reset();
    return {};
  }
  std::promise<void> done;
  auto future = done.get_future();
  boost::asio::post(io_, [&] { core_->shutdown([&] { done.set_value(); }); });
  future.wait();
  // Let posted teardown (stream destruction) run, then stop the loop. The marker is posted
  // while the work guard still holds the loop: posted after the reset, it could land on a loop
  // that had already run out of work and returned, and we would wait out the whole timeout.
  std::promise<void> drained;
  auto drained_future = drained.get_future();
  boost::asio::post(io_, [&] { drained.set_value(); });
  work_.reset();
  drained_future.wait_for(std::chrono::seconds(2));
  io_.stop();
  if (thread_.joinable()) thread_.join();
  core_.reset();  // joins the blocking pool
  events_->close();
  journal_.reset();
  return {};
}

EngineThread::~EngineThread() { (void)shutdown(); }

}  // namespace xfer::detail
