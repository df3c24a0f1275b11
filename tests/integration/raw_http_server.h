// RawHttpServer: a tiny misbehaving HTTP/1.1 server for tests. It accepts one connection at a
// time on 127.0.0.1 (ephemeral port), reads the request head, and writes whatever bytes the
// test's handler returns (a request body announced by Content-Length is read and dropped first) (status line, headers and body exactly as given, lies included), then
// closes the connection. Runs on its own thread; stopped and joined by the destructor.
// OPTIONS requests (an upload's limit discovery) are answered 405 without reaching the handler
// or the request count, unless it asks for them: most tests here script what follows.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace xfer::test {

class RawHttpServer {
 public:
  // handler(request_head, request_number starting at 0) → raw response bytes.
  using Handler = std::function<std::string(const std::string&, int)>;
  enum class Options { Refused, ToHandler };
  explicit RawHttpServer(Handler handler, Options options = Options::Refused);
  ~RawHttpServer();
  RawHttpServer(const RawHttpServer&) = delete;
  RawHttpServer& operator=(const RawHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

 private:
  void run();
  Handler handler_;
  Options options_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace xfer::test
