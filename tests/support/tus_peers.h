// The foreign tus peers from npm (tests/peers, installed by scripts/setup): a real @tus/server
// with @tus/file-store on 127.0.0.1 with an ephemeral port, and tus-js-client uploading a file.
// TusServerProcess is stopped (SIGTERM, then SIGKILL after a bounded wait) when it goes away.
// Throws std::runtime_error when the server does not come up (tests only).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.h"

namespace xfer::test {

// tests/peers in the source tree.
std::filesystem::path test_peers_dir();

class TusServerProcess {
 public:
  // Files go to `store`; extra_args are tus-server.mjs options (--max-size N, ...).
  static std::unique_ptr<TusServerProcess> start(const std::filesystem::path& store,
                                                 std::vector<std::string> extra_args = {});
  ~TusServerProcess();
  TusServerProcess(const TusServerProcess&) = delete;
  TusServerProcess& operator=(const TusServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>/files/": the creation endpoint.
  std::string endpoint() const;
  pid_t pid() const { return pid_; }
  // SIGKILL and wait (the process is gone afterwards).
  void kill_now();

 private:
  TusServerProcess() = default;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

// tus-js-client uploads `file` to `endpoint` with `protocol` (tus-v1, ietf-draft-03 = interop 5,
// ietf-draft-05 = interop 6); out holds "uploaded <url>" on success.
ProcResult run_tus_js_client(const std::string& endpoint, const std::filesystem::path& file,
                             const std::string& protocol, std::vector<std::string> extra_args = {});

}  // namespace xfer::test
