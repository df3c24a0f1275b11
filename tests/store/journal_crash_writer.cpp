// Child process of the crash tests (tests/store/journal_crash_test.cpp).
//   journal_crash_writer write <dir> <seed> <threads>   runs the crash workload until killed,
//                                                       printing each acknowledgement on stdout
//   journal_crash_writer hold <dir>                     opens the journal, prints "ready", waits
// Exit status 2: the journal did not open; 3: a commit failed (both are test failures).
#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

#include "store/journal.h"
#include "tests/store/crash_workload.h"

namespace {

void write_all(const std::string& line) {
  // One write() per line: pipe writes up to PIPE_BUF bytes are atomic, so lines from
  // different threads never interleave.
  if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::_Exit(4);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s write <dir> <seed> <threads> | hold <dir>\n", argv[0]);
    return 64;
  }
  const std::string mode = argv[1];
  xfer::store::JournalOptions options;
  options.directory = argv[2];
  auto journal = xfer::store::Journal::open(options);
  if (!journal) {
    std::fprintf(stderr, "journal_crash_writer: %s\n", journal.error().describe().c_str());
    return 2;
  }
  if (mode == "hold") {
    write_all("ready\n");
    for (;;) ::pause();
  }
  if (mode != "write" || argc < 5) return 64;
  const std::uint64_t seed = std::strtoull(argv[3], nullptr, 10);
  const int threads = std::atoi(argv[4]);
  std::atomic<bool> stop{false};
  xfer::test::run_crash_workload(**journal, threads, seed, stop, write_all);
  std::fprintf(stderr, "journal_crash_writer: a commit failed\n");
  return 3;
}
