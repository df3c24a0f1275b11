// The control socket: `<journal>/control.sock`, served by every xfer that runs transfers on
// that journal (get, put, resume, batch), so that `xfer ls`, `status`, `pause`, `resume ID` and
// `cancel` from another terminal reach the engine that holds the journal.
//
// Protocol: one JSON object per line. The client sends one request ({"v":1,"verb":"ls",
// "state":"waiting"}, {"v":1,"verb":"status","id":7}, "pause" / "resume" / "cancel" with "id")
// and reads answer lines until the server closes: transfer objects (the schema of `xfer ls
// --json`), then {"v":1,"ok":true} or {"v":1,"ok":false,"error":...,"exit_code":N}.
//
// Who may ask: the socket is created only after the journal's lock is held (so a stale one is
// replaced, never a live one), made owner-only (0600), and every connection's peer is checked
// with SO_PEERCRED: another uid is answered with an error and nothing else. One request per
// connection, handled on the server's own thread with a 2 s limit on reading it, so a client
// that stalls cannot stop the transfers or the next client for long.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <xfer/engine.h>

namespace xfer::cli {

std::string control_socket_path(const std::string& journal_dir);

class ControlServer {
 public:
  // Listens on the journal's socket; nullptr (after one line on stderr) when it cannot, which
  // costs the user only the remote verbs.
  static std::unique_ptr<ControlServer> start(Engine& engine, const std::string& journal_dir);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

 private:
  ControlServer(Engine& engine, std::string path, int listen_fd, int wake_read, int wake_write);
  void serve();
  void answer(int fd);

  Engine& engine_;
  std::string path_;
  int listen_fd_;
  int wake_read_, wake_write_;
  std::thread thread_;
};

struct ControlAnswer {
  std::vector<std::string> lines;  // the transfer objects, as sent
  bool ok = false;
  std::string error;
  int exit_code = 0;
};

// Sends `request` (one JSON object) to the journal's socket. nullopt when nothing listens there
// (no running xfer, or one too old to serve it).
std::optional<ControlAnswer> ask_control(const std::string& journal_dir, const std::string& request);

}  // namespace xfer::cli
