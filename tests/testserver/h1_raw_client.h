// raw_http1: one HTTP/1.1 request as raw bytes over a fresh loopback connection, for requests
// no real client would send (any byte in the target or a header value). The request should
// carry "Connection: close"; the answer is read until the server closes, bounded by a deadline.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace xts_test {

struct RawHttpResult {
  bool connected = false;
  int status = 0;        // of the first final (non-1xx) response; 0 when none arrived
  std::string response;  // everything the server sent
};

inline RawHttpResult raw_http1(std::uint16_t port, const std::string& request,
                               std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  RawHttpResult r;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  r.connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (r.connected) {
    std::size_t off = 0;
    while (off < request.size()) {
      const auto n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    const auto deadline = std::chrono::steady_clock::now() + limit;
    char buf[16384];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      r.response.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  // Skip interim responses (104, 100): the first status line that is not 1xx.
  std::size_t pos = 0;
  while ((pos = r.response.find("HTTP/1.1 ", pos)) != std::string::npos) {
    const int code = std::atoi(r.response.c_str() + pos + 9);
    if (code >= 200) {
      r.status = code;
      break;
    }
    pos += 9;
  }
  return r;
}

}  // namespace xts_test
