// Helpers shared by the engine integration tests: a served directory with pattern files, an
// Engine opened on a fresh journal, "run until this transfer is terminal", and running the
// real `xfer` CLI as a child process (with SIGKILL at a chosen moment).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <xfer/engine.h>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/testserver_process.h"

namespace xfer::test {

// Config for tests: short backoff, quick checkpoints, TLS trusting the given CA.
EngineConfig test_engine_config(const std::filesystem::path& ca_file = {});

// Waits for the terminal event of `id` (acking it), collecting every event seen for it.
struct RunResult {
  std::optional<Event> terminal;
  std::vector<Event> events;
  bool saw(EventKind kind) const;
};
// Acknowledges the terminal event unless `ack` is false (to see it redelivered later).
RunResult run_until_terminal(Engine& engine, TransferId id,
                             std::chrono::milliseconds timeout = std::chrono::seconds(60),
                             bool ack = true);

// A test server serving `dir/root`, with `dir/data` as its state.
std::unique_ptr<TestServerProcess> start_server(const TempDir& dir,
                                                std::vector<std::string> extra_args = {});

struct ChildResult {
  int exit_code = -1;  // -signal when killed
  std::string stderr_text;
  std::string stdout_text;
};
// Runs the xfer CLI with `args`; with kill_after, SIGKILLs it after that long (if still running).
// Its stdin is /dev/null, or the file `stdin_from`.
ChildResult run_cli(const std::vector<std::string>& args,
                    std::optional<std::chrono::milliseconds> kill_after = std::nullopt,
                    std::chrono::milliseconds timeout = std::chrono::seconds(120),
                    const std::filesystem::path& stdin_from = {});

// `xfer daemon --journal JOURNAL ARGS...` in the background, its stderr appended to `log`.
// Returns once it answers on its control socket (`xfer limit`, which only a running xfer
// answers: a stale socket left by a killed daemon does not), or after 10 s, when the caller's
// checks say what is wrong. Stop it with SIGTERM and wait_for_exit.
pid_t start_daemon(const std::string& journal, const std::filesystem::path& log,
                   const std::vector<std::string>& args = {});

// `xfer put - ARGS...` fed by a real pipe that delivers the first `first` bytes of `source`,
// pauses for `pause`, then delivers the rest. While the pause lasts, `seen` is polled every
// 50 ms: `seen_during_pause` says whether it ever returned true then (say, the server holding
// bytes of the upload before its input ended).
struct PausedPipePut {
  ProcResult process;
  bool seen_during_pause = false;
};
PausedPipePut put_from_paused_pipe(const std::filesystem::path& source, std::uint64_t first,
                                   std::chrono::milliseconds pause,
                                   const std::vector<std::string>& args,
                                   const std::function<bool()>& seen);

}  // namespace xfer::test
