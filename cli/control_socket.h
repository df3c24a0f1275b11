// The control socket: `<journal>/control.sock`, served by every xfer that runs transfers on
// that journal (get, put, resume, batch), so that `xfer ls`, `status`, `pause`, `resume ID` and
// `cancel` from another terminal reach the engine that holds the journal.
//
// Protocol: one JSON object per line. The client sends one request ({"v":1,"verb":"ls",
// "state":"waiting"}, {"v":1,"verb":"status","id":7}, "ping" (answers only ok), "pause" / "resume" / "cancel" with "id",
// and the verbs of ControlVerbs) and reads answer lines until the server closes: objects (for
// ls and the id verbs, the schema of `xfer ls --json`), then {"v":1,"ok":true} or
// {"v":1,"ok":false,"error":...,"exit_code":N}. A request is at most 1 MiB (`xfer add` sends
// entries in requests of a few hundred KiB).
//
// Who may ask: the socket is created only after the journal's lock is held (so a stale one is
// replaced, never a live one), made owner-only (0600), and every connection's peer is checked
// with SO_PEERCRED: another uid is answered with an error and nothing else. One request per
// connection, handled on the server's own thread with a 5 s limit on reading it, so a client
// that stalls cannot stop the transfers or the next client for long.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <xfer/engine.h>

namespace xfer::cli {

std::string control_socket_path(const std::string& journal_dir);

struct ControlAnswer {
  std::vector<std::string> lines;  // the objects before the last line, as sent
  bool ok = false;
  std::string error;
  int exit_code = 0;
};

// A verb beyond ls/status/pause/resume/cancel that only some runs serve (`limit` where a
// BandwidthControl runs, `add` / `events` / `ack` in `xfer daemon`): given the request line,
// already parsed once and known to be an object with a "verb"; runs on the server's thread.
using ControlVerb = std::function<ControlAnswer(const std::string& request)>;
using ControlVerbs = std::map<std::string, ControlVerb>;

class ControlServer {
 public:
  // Listens on the journal's socket; nullptr (after one line on stderr) when it cannot, which
  // costs the user only the remote verbs.
  static std::unique_ptr<ControlServer> start(Engine& engine, const std::string& journal_dir,
                                              ControlVerbs extra = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

 private:
  ControlServer(Engine& engine, std::string path, int listen_fd, int wake_read, int wake_write,
                ControlVerbs extra);
  void serve();
  void answer(int fd);

  Engine& engine_;
  ControlVerbs extra_;
  std::string path_;
  int listen_fd_;
  int wake_read_, wake_write_;
  std::thread thread_;
};

// Sends `request` (one JSON object) to the journal's socket. nullopt when nothing listens there
// (no running xfer, or one too old to serve it).
std::optional<ControlAnswer> ask_control(const std::string& journal_dir, const std::string& request);

// Whether a running xfer serves the journal's socket (it answers "ping").
bool control_answers(const std::string& journal_dir);

}  // namespace xfer::cli
