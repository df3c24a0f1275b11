#include "tests/integration/raw_http_server.h"

#include <cctype>
#include <cstdlib>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace xfer::test {

RawHttpServer::RawHttpServer(Handler handler, Options options)
    : handler_(std::move(handler)), options_(options) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0)
    throw std::runtime_error("bind/listen failed");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

RawHttpServer::~RawHttpServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

void RawHttpServer::run() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536 && !stop_) {
      pollfd c{fd, POLLIN, 0};
      if (::poll(&c, 1, 1000) <= 0) break;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      head.append(buf, static_cast<std::size_t>(n));
    }
    // A request body (uploads) is read and dropped first, so the client is not cut off
    // mid-send; the handler sees only the head.
    const auto end = head.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::uint64_t length = 0;
      std::string lower;
      for (char ch : head.substr(0, end)) lower.push_back(static_cast<char>(std::tolower(ch)));
      if (const auto at = lower.find("\r\ncontent-length:"); at != std::string::npos)
        length = std::strtoull(lower.c_str() + at + 17, nullptr, 10);
      std::uint64_t have = head.size() - end - 4;
      while (have < length && !stop_) {
        pollfd c{fd, POLLIN, 0};
        if (::poll(&c, 1, 1000) <= 0) break;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        have += static_cast<std::uint64_t>(n);
      }
      head.resize(end + 4);
    }
    const bool refused = options_ == Options::Refused && head.rfind("OPTIONS ", 0) == 0;
    const std::string response =
        refused ? "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                : handler_(head, requests_.fetch_add(1));
    std::size_t sent = 0;
    while (sent < response.size() && !stop_) {
      const ssize_t n = ::send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
  }
}

}  // namespace xfer::test
