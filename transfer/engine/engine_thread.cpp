#include "transfer/engine/engine_thread.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "protocols/curl/curl_transport.h"

namespace xfer::detail {
namespace {

Result<std::unique_ptr<protocols::Transport>> curl_transport(boost::asio::io_context& io,
                                                             const EngineConfig& config) {
  protocols::curl::CurlTransportConfig c;
  c.insecure = config.insecure;
  c.ca_file = config.ca_file;
  c.max_redirects = config.max_redirects;
  c.max_connections_total = config.max_connections;
  // Segmented HTTP/1.1 downloads need a connection per segment (up to 8 by default).
  c.max_connections_per_origin = std::max<std::uint32_t>(config.max_active_per_origin, 8);
  auto transport = protocols::curl::CurlTransport::create(io, c);
  if (!transport) return std::unexpected(transport.error());
  return std::unique_ptr<protocols::Transport>(std::move(*transport));
}

}  // namespace

Result<std::unique_ptr<EngineThread>> EngineThread::start(const std::string& journal_dir,
                                                          EngineConfig config, EngineDeps deps) {
  std::unique_ptr<EngineThread> self(new EngineThread());
  store::JournalOptions options;
  options.directory = journal_dir;
  options.env = deps.journal_env;
  auto journal = store::Journal::open(options);
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
  auto factory = deps.transport ? deps.transport : engine::TransportFactory(curl_transport);
  auto started = self->call([&] { return self->core_->start(factory); });
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
  // Let posted teardown (stream destruction) run, then stop the loop.
  work_.reset();
  std::promise<void> drained;
  auto drained_future = drained.get_future();
  boost::asio::post(io_, [&] { drained.set_value(); });
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
