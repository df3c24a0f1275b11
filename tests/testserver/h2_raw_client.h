// H2RawClient: a deliberately dumb HTTP/2 client over a blocking loopback TCP socket (h2c with
// prior knowledge) for hostile-input tests. It hand-encodes the few frames the tests need
// (HPACK: static-table indexes and literals without indexing, no Huffman) so it can send what
// a real client never would, and reads frames back with a deadline. Every wait is bounded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xts_test {

namespace h2 {

constexpr std::uint8_t kData = 0x0, kHeaders = 0x1, kRstStream = 0x3, kSettings = 0x4, kPing = 0x6,
                       kGoaway = 0x7, kWindowUpdate = 0x8;
constexpr std::uint8_t kEndStream = 0x1, kAck = 0x1, kEndHeaders = 0x4;
constexpr std::uint16_t kSettingsInitialWindowSize = 0x4;
inline const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

inline void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

inline std::uint32_t get32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[at + i]);
  return v;
}

// A frame header claiming payload.size() bytes (or `length` when given, for oversize tests).
inline std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream, const std::string& payload,
                         std::optional<std::uint32_t> length = std::nullopt) {
  const std::uint32_t len = length.value_or(static_cast<std::uint32_t>(payload.size()));
  std::string out;
  out.push_back(static_cast<char>((len >> 16) & 0xff));
  out.push_back(static_cast<char>((len >> 8) & 0xff));
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  put32(out, stream & 0x7fffffffu);
  return out + payload;
}

inline std::string settings(const std::vector<std::pair<std::uint16_t, std::uint32_t>>& entries) {
  std::string payload;
  for (const auto& [id, value] : entries) {
    payload.push_back(static_cast<char>(id >> 8));
    payload.push_back(static_cast<char>(id & 0xff));
    put32(payload, value);
  }
  return frame(kSettings, 0, 0, payload);
}

inline std::string settings_ack() { return frame(kSettings, kAck, 0, ""); }

inline std::string window_update(std::uint32_t stream, std::uint32_t increment) {
  std::string payload;
  put32(payload, increment);
  return frame(kWindowUpdate, 0, stream, payload);
}

inline std::string rst_stream(std::uint32_t stream, std::uint32_t code) {
  std::string payload;
  put32(payload, code);
  return frame(kRstStream, 0, stream, payload);
}

// HPACK literal without indexing, name from the static table (RFC 7541 §6.2.2); values < 127.
inline std::string literal(std::uint8_t name_index, const std::string& value) {
  std::string out;
  out.push_back(static_cast<char>(name_index));  // 0000xxxx, index < 15
  out.push_back(static_cast<char>(value.size()));
  return out + value;
}

// HPACK literal without indexing with a new name (RFC 7541 §6.2.2); name and value < 127 bytes.
inline std::string literal_new_name(const std::string& name, const std::string& value) {
  std::string out(1, '\0');
  out.push_back(static_cast<char>(name.size()));
  out += name;
  out.push_back(static_cast<char>(value.size()));
  return out + value;
}

// A request as one HEADERS frame (END_HEADERS; END_STREAM unless a body follows): any method,
// path and authority bytes (< 127 each), then `fields` (lower-case names, values < 127 bytes).
inline std::string request(std::uint32_t stream, const std::string& method, const std::string& path,
                           const std::vector<std::pair<std::string, std::string>>& fields = {},
                           bool end_stream = true, const std::string& authority = "127.0.0.1") {
  std::string block = literal(2, method);  // :method
  block.push_back('\x86');                 // :scheme http
  block += literal(4, path);                // :path
  block += literal(1, authority);           // :authority
  for (const auto& [name, value] : fields) block += literal_new_name(name, value);
  return frame(kHeaders, kEndHeaders | (end_stream ? kEndStream : 0), stream, block);
}

// GET `path` as one HEADERS frame with END_HEADERS and END_STREAM.
inline std::string get_request(std::uint32_t stream, const std::string& path) {
  std::string block;
  block.push_back('\x82');  // :method GET
  block.push_back('\x86');  // :scheme http
  block += literal(4, path);  // :path
  block += literal(1, "127.0.0.1");  // :authority
  return frame(kHeaders, kEndHeaders | kEndStream, stream, block);
}

}  // namespace h2

struct H2Frame {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint32_t stream = 0;
  std::string payload;
  std::uint32_t error_code() const {  // RST_STREAM and GOAWAY
    if (type == h2::kRstStream && payload.size() >= 4) return h2::get32(payload, 0);
    if (type == h2::kGoaway && payload.size() >= 8) return h2::get32(payload, 4);
    return 0;
  }
};

class H2RawClient {
 public:
  explicit H2RawClient(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{0, 100'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  ~H2RawClient() { ::close(fd_); }
  H2RawClient(const H2RawClient&) = delete;
  H2RawClient& operator=(const H2RawClient&) = delete;

  bool connected() const { return connected_; }
  bool closed() const { return closed_; }

  // False once the peer closed or stopped taking bytes for a while (bounded: 50 stalls).
  bool send(const std::string& data) {
    std::size_t off = 0;
    int stalls = 0;
    while (off < data.size()) {
      const auto n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && ++stalls < 50) {
        drain();  // the server may be waiting for us to read before it reads on
        continue;
      }
      return false;
    }
    return true;
  }

  // The next complete frame, or nullopt when the connection closed or `limit` passed.
  std::optional<H2Frame> next_frame(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (auto f = take_frame()) return f;
      if (closed_ || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      receive();
    }
  }

  // Reads frames until GOAWAY arrives or the connection closes (true), or `limit` passes.
  bool wait_goaway_or_close(std::chrono::milliseconds limit, std::optional<std::uint32_t>* goaway_code = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto f = next_frame(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (!f) return closed_;
      if (f->type == h2::kGoaway) {
        if (goaway_code != nullptr) *goaway_code = f->error_code();
        return true;
      }
    }
    return false;
  }

 private:
  void receive() {
    char buf[65536];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      closed_ = true;
    }
  }
  void drain() {
    if (!closed_) receive();
  }
  std::optional<H2Frame> take_frame() {
    if (in_.size() < 9) return std::nullopt;
    const std::size_t len = (static_cast<std::size_t>(static_cast<std::uint8_t>(in_[0])) << 16) |
                            (static_cast<std::size_t>(static_cast<std::uint8_t>(in_[1])) << 8) |
                            static_cast<std::uint8_t>(in_[2]);
    if (in_.size() < 9 + len) return std::nullopt;
    H2Frame f;
    f.type = static_cast<std::uint8_t>(in_[3]);
    f.flags = static_cast<std::uint8_t>(in_[4]);
    f.stream = h2::get32(in_, 5) & 0x7fffffffu;
    f.payload = in_.substr(9, len);
    in_.erase(0, 9 + len);
    return f;
  }

  int fd_;
  bool connected_ = false;
  bool closed_ = false;
  std::string in_;
};

}  // namespace xts_test
