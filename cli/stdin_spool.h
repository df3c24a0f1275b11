// `xfer put -`: stdin is copied into a spool file in the journal directory, synced, and that
// file is uploaded like any other. A pipe cannot be read twice, and a resumable upload must be
// able to send again whatever the server did not acknowledge — after a retry, and after a crash
// (`xfer resume` reads the spool). The spool belongs to its upload: it is removed once the
// upload completed, failed or was cancelled, and kept while it is unfinished (resumable).
#pragma once

#include <csignal>
#include <string>

#include <xfer/engine.h>

namespace xfer::cli {

// Copies `fd` to a new file under JOURNAL_DIR/spool/ until end of input, fdatasyncs it and its
// directory, and returns its path. A terminal on `fd` is refused (nothing to pipe in); a
// full disk or `stop` becoming set removes the partial spool and fails.
Result<std::string> spool_input(const std::string& journal_dir, int fd,
                                const volatile std::sig_atomic_t& stop);

// Removes the spool files no upload of the journal still reads: those of completed, cancelled
// or failed uploads, and those no record names (a crash between spooling and queueing).
// Returns how many were removed; errors are ignored (a spool left behind is only disk space).
std::size_t remove_unneeded_spools(Engine& engine, const std::string& journal_dir);

}  // namespace xfer::cli
