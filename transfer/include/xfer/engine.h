// Engine: the embeddable transfer engine. Open it on a journal directory, enqueue downloads and
// uploads, watch events, ack terminal events, shut it down.
//
// Promises (design.md invariants):
// - A destination file appears only complete and verified (size, Repr-Digest/Content-Digest
//   when the server sends one, the spec's checksum), by an atomic rename.
// - A journaled offset never exceeds what was fdatasync'ed; after a crash, reopening the engine
//   on the same journal truncates each ".part" to its journaled offset and continues every
//   unfinished transfer with Range + If-Range, restarting from zero if the representation
//   changed.
// - An upload journals only offsets the server acknowledged; after a crash it asks the server
//   where it stands (offset retrieval) and continues there, never onto a changed source.
// - Terminal events (Completed / Failed / Cancelled) are delivered until acked, across restarts,
//   and never after the ack.
// - Memory grows with the number of active transfers, not with the number queued.
//
// Threading: the engine runs on its own thread (one Boost.Asio loop). Every method here is
// thread-safe and returns once the engine thread has handled the call. No exception crosses
// this API; failures are Result errors.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <xfer/transfer_spec.h>
#include <xfer/engine_config.h>
#include <xfer/engine_parts.h>
#include <xfer/error.h>
#include <xfer/events.h>
#include <xfer/transfer_status.h>

namespace xfer {

struct JournaledPath {
  TransferId id = 0;
  Direction direction = Direction::Download;
  std::string path;  // destination of a download, source of an upload
  TransferState state = TransferState::Queued;
  // Not completed or cancelled: a download's ".part", if any, is its own; an upload may still
  // read its source.
  bool may_own_part = false;
};

class Engine;

namespace detail {
class EngineThread;
struct EngineDeps;
Result<std::unique_ptr<Engine>> open_engine(const std::string&, EngineConfig, EngineDeps);
}  // namespace detail

class Engine {
 public:
  // Opens (or creates) the journal in `journal_dir` and resumes every unfinished transfer in it.
  // Fails with a Journal error if another process holds the journal ("journal in use by pid N").
  static Result<std::unique_ptr<Engine>> open(const std::string& journal_dir, EngineConfig config);

  // The same on the parts the caller chooses (<xfer/engine_parts.h>): which transport carries
  // the requests, which journal keeps the state. open() is open_with(dir, config, {}).
  static Result<std::unique_ptr<Engine>> open_with(const std::string& journal_dir,
                                                   EngineConfig config, EngineParts parts);

  ~Engine();  // shutdown() if not done yet
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Journals the spec and queues it. The id is stable across restarts. Everything that can be
  // checked before a byte moves is (the URL, the destination's directory, an upload's source
  // being a readable regular file, the checksum's form): a refused spec queues nothing.
  Result<TransferId> enqueue(TransferSpec spec);
  // Many at once, both directions mixed, journaled in one synced batch (all or none): the way
  // to queue thousands.
  Result<std::vector<TransferId>> enqueue(std::vector<TransferSpec> specs);
  Result<std::vector<TransferId>> enqueue(std::vector<DownloadSpec> specs);

  // pause: stop moving bytes, checkpoint, keep everything (Paused). resume: queue it again
  // (Paused, Waiting, or Failed-but-resumable transfers). cancel: stop, delete the .part.
  Result<void> pause(TransferId id);
  Result<void> resume(TransferId id);
  Result<void> cancel(TransferId id);
  Result<TransferStatus> status(TransferId id);
  // New bandwidth limits, bytes per second (0 = none): the whole engine's and each transfer's,
  // what EngineConfig's rate_limit_global and rate_limit_per_transfer set at open. They apply
  // at once, to running and paused-for-bandwidth streams too.
  Result<void> set_rate_limits(std::uint64_t global, std::uint64_t per_transfer);
  // A growing source (UploadSpec::source_grows) has `size` bytes now, readable as they will stay.
  // Sizes only go up. After a restart the engine knows only what the journal kept (the final
  // size, once ended): announce again what the source holds.
  Result<void> source_grew(TransferId id, std::uint64_t size);
  // The growing source ended at `size` bytes (journaled, synced, before this returns): the upload
  // completes once the server has them, after a crash and resume too.
  Result<void> source_ended(TransferId id, std::uint64_t size);
  // Every transfer currently in memory (active, waiting, and the queued window).
  std::vector<TransferStatus> active_transfers();
  // Number of unfinished transfers the engine knows of (journal included).
  std::size_t unfinished_count();
  // Ids of every unfinished transfer in the journal (queued, active, waiting, paused).
  std::vector<TransferId> unfinished_ids();
  // The local path of every transfer the journal holds, finished or not (for finding ".part"
  // files nothing owns any more, and upload sources no upload reads any more). Scans the whole
  // journal on the caller's thread.
  Result<std::vector<JournaledPath>> journaled_paths();

  // Poll queue (used when EngineConfig::on_event is empty): the next event, waiting at most
  // `timeout`.
  std::optional<Event> next_event(std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // Up to `max` events at once: waits at most `timeout` for the first, then up to `linger` for
  // more to join it. For consumers of many events a second (one wake-up per burst); empty when
  // nothing came within `timeout`.
  std::vector<Event> next_events(std::size_t max, std::chrono::milliseconds timeout,
                                 std::chrono::milliseconds linger = std::chrono::milliseconds(0));

  // Acknowledges a terminal event: it will not be delivered again.
  Result<void> ack(const Event& event);
  // Many at once in one synced journal write (all or none): the way to acknowledge thousands
  // of completions without a disk flush each.
  Result<void> ack(const std::vector<Event>& events);

  // Stops every transfer at a checkpoint (fdatasync + journaled offsets), closes the journal.
  // Unfinished transfers continue at the next open. Idempotent.
  Result<void> shutdown();

 private:
  friend Result<std::unique_ptr<Engine>> detail::open_engine(const std::string&, EngineConfig,
                                                             detail::EngineDeps);
  explicit Engine(std::unique_ptr<detail::EngineThread> thread);
  std::unique_ptr<detail::EngineThread> thread_;
};

}  // namespace xfer
