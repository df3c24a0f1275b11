#include "tests/curl/hostile_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace xfer::test {

HostileServer::HostileServer(Script script) : script_(std::move(script)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("bind/listen failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

HostileServer::~HostileServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

void HostileServer::run() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    script_(fd, connections_.fetch_add(1));
    ::close(fd);
  }
}

bool send_all(int fd, std::string_view bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 2000) <= 0) return false;
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

namespace {

// Appends up to `max` bytes that arrive within the timeout; false on timeout/EOF.
bool read_some(int fd, std::string& into, std::size_t max, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char buf[16384];
  const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, max), 0);
  if (n <= 0) return false;
  into.append(buf, static_cast<std::size_t>(n));
  return true;
}

}  // namespace

std::string read_until(int fd, std::string_view delimiter, int timeout_ms) {
  std::string data;
  while (data.find(delimiter) == std::string::npos && data.size() < (1 << 20)) {
    if (!read_some(fd, data, 16384, timeout_ms)) break;
  }
  return data;
}

std::string read_exactly(int fd, std::size_t n, int timeout_ms) {
  std::string data;
  while (data.size() < n) {
    if (!read_some(fd, data, n - data.size(), timeout_ms)) break;
  }
  return data;
}

void drain_until_closed(int fd, int timeout_ms) {
  std::string sink;
  while (read_some(fd, sink, 16384, timeout_ms)) sink.clear();
}

namespace h2 {
namespace {

void put24(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

void put32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  put24(out, v & 0xffffff);
}

std::uint32_t get32(std::string_view s) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[3]));
}

// RFC 7541 §5.1 with a 7-bit prefix and the H (Huffman) bit clear.
void put_length(std::string& out, std::size_t n) {
  if (n < 127) {
    out.push_back(static_cast<char>(n));
    return;
  }
  out.push_back(static_cast<char>(127));
  n -= 127;
  while (n >= 128) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

}  // namespace

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                  std::string_view payload) {
  std::string out;
  put24(out, static_cast<std::uint32_t>(payload.size()));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  put32(out, stream & 0x7fffffff);
  out.append(payload);
  return out;
}

std::string rst_stream(std::uint32_t stream, std::uint32_t code) {
  std::string payload;
  put32(payload, code);
  return frame(kRstStream, 0, stream, payload);
}

std::string goaway(std::uint32_t last_stream, std::uint32_t code) {
  std::string payload;
  put32(payload, last_stream);
  put32(payload, code);
  return frame(kGoaway, 0, 0, payload);
}

std::string literal(std::string_view name, std::string_view value) {
  std::string out(1, '\0');
  put_length(out, name.size());
  out.append(name);
  put_length(out, value.size());
  out.append(value);
  return out;
}

bool read_frame(int fd, Frame& out, int timeout_ms) {
  const std::string head = read_exactly(fd, 9, timeout_ms);
  if (head.size() != 9) return false;
  const std::uint32_t length = get32(std::string(1, '\0') + head.substr(0, 3));
  out.type = static_cast<std::uint8_t>(head[3]);
  out.flags = static_cast<std::uint8_t>(head[4]);
  out.stream = get32(head.substr(5, 4)) & 0x7fffffff;
  out.payload = read_exactly(fd, length, timeout_ms);
  return out.payload.size() == length;
}

std::uint32_t accept_request(int fd) {
  if (read_exactly(fd, kClientPreface.size()) != kClientPreface) return 0;
  if (!send_all(fd, frame(kSettings, 0, 0, {}))) return 0;
  Frame f;
  while (read_frame(fd, f)) {
    if (f.type == kSettings && !(f.flags & kAck)) {
      if (!send_all(fd, frame(kSettings, kAck, 0, {}))) return 0;
    } else if (f.type == kHeaders || f.type == kContinuation) {
      if (f.flags & kEndHeaders) return f.stream;
    }
  }
  return 0;
}

}  // namespace h2
}  // namespace xfer::test
