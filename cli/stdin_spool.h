// `xfer put -`: stdin is copied into a spool file in the journal directory while the upload
// sends it. A pipe cannot be read twice, and a resumable upload must be able to send again
// whatever the server did not acknowledge — after a retry, and after a crash (`xfer resume`
// reads the spool). The upload is of a growing source (UploadSpec::source_grows): the feeder
// syncs the spool and announces its growth as it goes, and announces the end (journaled) at end
// of input, so the upload sends while stdin is still being read and needs no length up front.
// The spool belongs to its upload: it is removed once the upload completed, failed or was
// cancelled, and kept while it is unfinished (resumable once its input ended).
#pragma once

#include <atomic>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include <xfer/engine.h>

namespace xfer::cli {

// Creates an empty spool file (owner-only) under JOURNAL_DIR/spool/, its directory synced, for
// the input on `fd`. A terminal on `fd` is refused (nothing is piped in).
Result<std::string> create_spool(const std::string& journal_dir, int fd);

// Moves `fd` into the spool on a thread of its own, for upload `id` (splice() from a pipe,
// read/write otherwise): every kAnnounceBytes (or after kAnnounceQuiet with unannounced bytes)
// it starts the writeback and announces the size; at end of input it fdatasyncs and announces
// the end. It stops early when asked, when the engine refuses an announcement (the upload
// ended) or on a read or write error.
class SpoolFeeder {
 public:
  struct Outcome {
    bool ended = false;          // end of input reached and announced
    std::uint64_t bytes = 0;     // copied into the spool
    std::optional<Error> error;  // why it stopped early (not for stop())
  };

  SpoolFeeder(int fd, std::string path, Engine& engine, TransferId id);
  ~SpoolFeeder();
  SpoolFeeder(const SpoolFeeder&) = delete;
  SpoolFeeder& operator=(const SpoolFeeder&) = delete;

  void stop() { stop_ = true; }
  // Waits for the thread (after stop(), within a poll interval).
  Outcome wait();
  // It stopped on an error (Outcome::error says which): the upload will not get its end.
  bool failed() const { return failed_; }

 private:
  void run();

  int fd_;
  std::string path_;
  Engine& engine_;
  TransferId id_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  Outcome outcome_;
  std::thread thread_;
};

// Removes the spool files no upload of the journal still reads: those of completed, cancelled
// or failed uploads, and those no record names (a crash between spooling and queueing).
// Returns how many were removed; errors are ignored (a spool left behind is only disk space).
std::size_t remove_unneeded_spools(Engine& engine, const std::string& journal_dir);

}  // namespace xfer::cli
