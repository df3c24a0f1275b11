// TestServerProcess: the real xfer-testserver binary (XFER_TESTSERVER_PATH) as a child process
// for integration tests. start() runs it on 127.0.0.1 port 0 (TLS and/or plain), waits for its
// one JSON ready line on stdout and exposes the ports and the certificate path. The destructor
// sends SIGTERM and waits (SIGKILL after a bounded wait); kill_hard() is SIGKILL, and
// restart() starts it again with the same --root/--data/arguments (by default on the same
// ports, so upload URLs handed out before stay valid; the HTTP/3 listener binds UDP at the TLS
// port, so it comes back on its port too). Throws std::runtime_error on failure.
// The environment variable XFER_TESTSERVER_BINARY, when set, replaces the binary (e.g. a
// sanitizer build of the server under the normal test suite).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace xfer::test {

struct TestServerOptions {
  std::filesystem::path root;  // required (created if missing)
  std::filesystem::path data;  // required (created if missing)
  bool tls = true;             // --listen 127.0.0.1:0 --self-signed
  bool plain = true;           // --listen-plain 127.0.0.1:0
  std::vector<std::string> extra_args;  // e.g. {"--fault", "reset-after=1000", "--control"}
  // A command the server runs under (found on PATH; it must exec the server so pid() stays the
  // server's), e.g. `unshare -rm sh -c 'mount -t tmpfs ... && exec "$@"' sh` for a small disk.
  std::vector<std::string> wrapper;
  // Server stderr is appended here; empty = inherited (shows up in the test's output).
  std::filesystem::path log_file;
  std::chrono::milliseconds ready_timeout{20'000};
  // Non-empty: run `xfer-testserver --udp-relay <relay>` (a UDP relay, no --root/--data, no
  // listeners of its own; root/data/tls/plain are ignored). relay_port() is its port.
  std::string relay;
};

class TestServerProcess {
 public:
  static std::unique_ptr<TestServerProcess> start(const TestServerOptions& options);
  // xfer-testserver --udp-relay 127.0.0.1:0=127.0.0.1:<target_port> <extra_args> (e.g.
  // {"--rebind-after", "1000000"}); stderr appended to log_file when given.
  static std::unique_ptr<TestServerProcess> start_relay(std::uint16_t target_port, std::vector<std::string> extra_args,
                                                        std::filesystem::path log_file = {});
  ~TestServerProcess();
  TestServerProcess(const TestServerProcess&) = delete;
  TestServerProcess& operator=(const TestServerProcess&) = delete;

  std::uint16_t tls_port() const { return tls_port_; }
  std::uint16_t plain_port() const { return plain_port_; }
  // The HTTP/3 (UDP) port from the ready line's "h3_port"; 0 when it is null (no --listen,
  // or --no-http3).
  std::uint16_t h3_port() const { return h3_port_; }
  // The relay's UDP port ("relay_port" of its ready line); 0 for a server.
  std::uint16_t relay_port() const { return relay_port_; }
  const std::filesystem::path& cert() const { return cert_; }
  const std::string& ready_line() const { return ready_line_; }
  pid_t pid() const { return pid_; }
  bool running();

  // "https://127.0.0.1:<tls_port>" / "http://127.0.0.1:<plain_port>", no trailing slash.
  std::string https_origin() const;
  std::string http_origin() const;

  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit code, or -signal if it was
  // killed by a signal, or 0 when it was not running.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // SIGKILL, as a crash would; reaps the child.
  void kill_hard();
  // Starts the server again (after stop() or kill_hard()) with the same options.
  void restart(bool same_ports = true);

 private:
  explicit TestServerProcess(TestServerOptions options);
  void launch(std::optional<std::uint16_t> tls_port, std::optional<std::uint16_t> plain_port);
  int reap(std::chrono::milliseconds wait);

  TestServerOptions options_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::uint16_t tls_port_ = 0;
  std::uint16_t plain_port_ = 0;
  std::uint16_t h3_port_ = 0;
  std::uint16_t relay_port_ = 0;
  std::filesystem::path cert_;
  std::string ready_line_;
};

}  // namespace xfer::test
