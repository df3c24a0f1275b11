// HostileServer: a raw TCP server on 127.0.0.1 (ephemeral port) whose every connection is
// handed to a test's script, so tests can send exactly the bytes a broken or malicious peer
// would: HTTP/1.1 lies, or hand-built HTTP/2 frames (h2c with prior knowledge). One connection
// at a time on its own thread; the script owns the socket until it returns (then it is
// closed). Stopped and joined by the destructor. Plus the small codecs such scripts need.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace xfer::test {

class HostileServer {
 public:
  // script(fd, connection number starting at 0).
  using Script = std::function<void(int fd, int connection)>;
  explicit HostileServer(Script script);
  ~HostileServer();
  HostileServer(const HostileServer&) = delete;
  HostileServer& operator=(const HostileServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }
  bool stopping() const { return stop_.load(); }

 private:
  void run();
  Script script_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// Socket helpers for scripts; all give up after `timeout_ms` without progress.
bool send_all(int fd, std::string_view bytes);
// Reads until `delimiter` has arrived (returns everything read) or timeout/EOF (returns
// what was read; empty on nothing).
std::string read_until(int fd, std::string_view delimiter, int timeout_ms = 2000);
// Reads exactly n bytes, or fewer on timeout/EOF.
std::string read_exactly(int fd, std::size_t n, int timeout_ms = 2000);
// Reads and drops whatever arrives until the peer closes or `timeout_ms` pass quietly.
void drain_until_closed(int fd, int timeout_ms = 2000);

// HTTP/2 (RFC 9113) framing, just enough to play a server by hand.
namespace h2 {

inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
enum FrameType : std::uint8_t {
  kData = 0,
  kHeaders = 1,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoaway = 7,
  kWindowUpdate = 8,
  kContinuation = 9,
};
enum Flag : std::uint8_t { kEndStream = 0x1, kAck = 0x1, kEndHeaders = 0x4 };
enum ErrorCode : std::uint32_t {
  kNoError = 0,
  kProtocolError = 1,
  kInternalError = 2,
  kCancel = 8,
};

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                  std::string_view payload);
std::string rst_stream(std::uint32_t stream, std::uint32_t code);
std::string goaway(std::uint32_t last_stream, std::uint32_t code);

// HPACK (RFC 7541) without Huffman coding or the dynamic table: a literal field "without
// indexing" with a literal name. Enough to say anything, including what a decoder must refuse.
std::string literal(std::string_view name, std::string_view value);

struct Frame {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint32_t stream = 0;
  std::string payload;
};
// Reads one frame; false on timeout/EOF.
bool read_frame(int fd, Frame& out, int timeout_ms = 2000);

// Plays the server's side of an h2c connection up to the first request: reads the client
// preface and frames until a HEADERS (+CONTINUATION) block with END_HEADERS, sends an empty
// SETTINGS and acknowledges the client's. Returns the request's stream id, 0 on failure.
std::uint32_t accept_request(int fd);

}  // namespace h2
}  // namespace xfer::test
