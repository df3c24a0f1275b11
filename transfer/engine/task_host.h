// TaskHost: what a DownloadTask needs from the engine around it (the loop, the transport, the
// journal, the blocking pool, policies, events). EngineCore implements it; keeping it an
// interface lets the task be read, and tested, on its own.
// Every method is called on the engine's loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>

#include <boost/asio/io_context.hpp>

#include <xfer/credentials.h>
#include <xfer/engine_config.h>
#include <xfer/events.h>

#include "protocols/transport.h"
#include "store/journal.h"
#include "base/clock.h"
#include "transfer/engine/blocking_pool.h"
#include "transfer/engine/persist_groups.h"
#include "transfer/engine/retry_policy.h"
#include "transfer/files/file_system.h"

namespace xfer::engine {

class TaskHost {
 public:
  virtual ~TaskHost() = default;
  virtual const EngineConfig& config() const = 0;
  virtual const Clock& clock() const = 0;
  virtual boost::asio::io_context& io() = 0;
  virtual protocols::Transport& transport() = 0;
  virtual files::FileSystem& file_system() = 0;
  virtual store::Journal& journal() = 0;
  virtual BlockingPool& pool() = 0;
  // Where persist jobs go: run with other tasks' jobs as a group (one journal flush for all).
  virtual PersistGroups& persist_groups() = 0;
  virtual const RetryPolicy& retry_policy() const = 0;
  virtual std::mt19937_64& rng() = 0;
  // The secrets the record withheld from the journal: from memory, else from the app's
  // EngineConfig::credentials. An InvalidArgument error names what nobody supplied.
  virtual Result<Credentials> credentials_for(const store::TransferRecord& record) = 0;

  virtual void emit(Event event) = 0;
  // Charges bytes against the rate limits; returns how long the stream must pause (0 = none).
  virtual std::chrono::nanoseconds charge_rate(const std::string& origin, TransferId id,
                                               std::uint64_t bytes) = 0;
  // One attempt's outcome, for the circuit breakers and what we learn about the origin
  // (e.g. that it multiplexes).
  virtual void attempt_outcome(const std::string& origin, bool success,
                               const std::string& protocol) = 0;
  // The response head told which protocol carries the origin's traffic ("h2" multiplexes).
  virtual void protocol_learned(const std::string& origin, const std::string& protocol) = 0;
  // A response from `origin` carried Alt-Svc with this value (RFC 7838; several field lines
  // joined by commas) and had been in a cache for `age_seconds` (its Age field; 0 without).
  virtual void alt_svc_seen(const std::string& origin, const std::string& value, std::uint64_t age_seconds) {
    (void)origin;
    (void)value;
    (void)age_seconds;
  }
  // What was announced of a growing upload source in this process (0: nothing).
  virtual std::uint64_t announced_source_size(TransferId) const { return 0; }
  // The task left Active (final checkpoint or terminal batch done) and may be destroyed.
  // `outbox_changed`: a terminal event was committed to the outbox.
  virtual void task_stopped(TransferId id, TransferState state, bool outbox_changed) = 0;
};

}  // namespace xfer::engine
