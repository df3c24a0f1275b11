#include "cli/control_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/journal_listing.h"

namespace xfer::cli {
namespace {

using json = nlohmann::ordered_json;
constexpr std::size_t kMaxRequest = 1 << 20;
constexpr int kReadLimitMs = 5000;

bool fill_address(const std::string& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

void write_all(int fd, const std::string& text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::send(fd, p, left, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client went away: nothing to tell it
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

std::string end_line(bool ok, const std::string& error = "", int exit_code = 0) {
  json j;
  j["v"] = 1;
  j["ok"] = ok;
  if (!ok) {
    j["error"] = error;
    j["exit_code"] = exit_code;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string failure(const Error& e) { return end_line(false, e.describe(), exit_code_for(e.category())); }

// One line of at most kMaxRequest bytes within kReadLimitMs; nullopt otherwise.
std::optional<std::string> read_request(int fd) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kReadLimitMs);
  char buf[16384];
  while (line.size() <= kMaxRequest) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    line.append(buf, static_cast<std::size_t>(n));
    if (const auto nl = line.find('\n', line.size() - static_cast<std::size_t>(n)); nl != std::string::npos)
      return line.substr(0, nl);
  }
  return std::nullopt;
}

}  // namespace

std::string control_socket_path(const std::string& journal_dir) { return journal_dir + "/control.sock"; }

std::unique_ptr<ControlServer> ControlServer::start(Engine& engine, const std::string& journal_dir,
                                                    ControlVerbs extra) {
  const std::string path = control_socket_path(journal_dir);
  sockaddr_un addr{};
  if (!fill_address(path, addr)) {
    std::fprintf(stderr, "xfer: the journal's path is too long for a control socket (%s): `xfer ls` and the "
                         "other verbs cannot reach this run\n", path.c_str());
    return nullptr;
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return nullptr;
  // This process holds the journal's lock: a socket file there is a dead run's.
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::chmod(path.c_str(), 0600) != 0 ||
      ::listen(fd, 16) != 0) {
    std::fprintf(stderr, "xfer: no control socket at %s: %s\n", path.c_str(), std::strerror(errno));
    ::close(fd);
    ::unlink(path.c_str());
    return nullptr;
  }
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(fd);
    ::unlink(path.c_str());
    return nullptr;
  }
  return std::unique_ptr<ControlServer>(new ControlServer(engine, path, fd, wake[0], wake[1], std::move(extra)));
}

ControlServer::ControlServer(Engine& engine, std::string path, int listen_fd, int wake_read, int wake_write,
                             ControlVerbs extra)
    : engine_(engine), extra_(std::move(extra)), path_(std::move(path)), listen_fd_(listen_fd), wake_read_(wake_read), wake_write_(wake_write) {
  thread_ = std::thread([this] { serve(); });
}

ControlServer::~ControlServer() {
  const char byte = 1;
  (void)!::write(wake_write_, &byte, 1);
  thread_.join();
  ::unlink(path_.c_str());
  ::close(listen_fd_);
  ::close(wake_read_);
  ::close(wake_write_);
}

void ControlServer::serve() {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    const int r = ::poll(p, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (p[1].revents & POLLIN)) return;
    if (!(p[0].revents & POLLIN)) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    answer(client);
    ::close(client);
  }
}

void ControlServer::answer(int fd) {
  ucred peer{};
  socklen_t len = sizeof peer;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || peer.uid != ::geteuid()) {
    write_all(fd, end_line(false, "refused: the control socket answers only its owner's uid", kExitUsage));
    return;
  }
  const auto line = read_request(fd);
  if (!line) {
    write_all(fd, end_line(false, "no request line within 5 s (at most 1 MiB)", kExitUsage));
    return;
  }
  const auto request = json::parse(*line, nullptr, false);
  if (request.is_discarded() || !request.is_object() || !request.contains("verb") || !request.at("verb").is_string()) {
    write_all(fd, end_line(false, "the request is not a JSON object with a \"verb\"", kExitUsage));
    return;
  }
  const std::string verb = request.at("verb").get<std::string>();
  std::optional<TransferId> id;
  if (request.contains("id") && request.at("id").is_number_unsigned()) id = request.at("id").get<TransferId>();

  if (verb == "ping") return write_all(fd, end_line(true));
  if (verb == "ls") {
    std::optional<TransferState> state;
    if (request.contains("state") && request.at("state").is_string()) {
      state = parse_state(request.at("state").get<std::string>());
      if (!state) return write_all(fd, end_line(false, "unknown state", kExitUsage));
    }
    auto all = journal_transfers(engine_, state);
    if (!all) return write_all(fd, failure(all.error()));
    for (const auto& st : *all) write_all(fd, status_json_line(st) + "\n");
    return write_all(fd, end_line(true));
  }
  if (const auto it = extra_.find(verb); it != extra_.end()) {
    const auto reply = it->second(*line);
    for (const auto& l : reply.lines) write_all(fd, l + "\n");
    return write_all(fd, end_line(reply.ok, reply.error, reply.exit_code));
  }
  if (verb != "status" && verb != "pause" && verb != "resume" && verb != "cancel")
    return write_all(fd, end_line(false, fmt::format("this run does not serve \"{}\"", verb), kExitUsage));
  if (!id) return write_all(fd, end_line(false, verb + " needs an \"id\"", kExitUsage));
  Result<void> done;
  if (verb == "pause") done = engine_.pause(*id);
  else if (verb == "resume") done = engine_.resume(*id);
  else if (verb == "cancel") done = engine_.cancel(*id);
  if (!done) return write_all(fd, failure(done.error()));
  auto st = engine_.status(*id);
  if (!st) return write_all(fd, failure(st.error()));
  write_all(fd, status_json_line(*st) + "\n");
  write_all(fd, end_line(true));
}

std::optional<ControlAnswer> ask_control(const std::string& journal_dir, const std::string& request) {
  sockaddr_un addr{};
  if (!fill_address(control_socket_path(journal_dir), addr)) return std::nullopt;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  // A stuck server must not hang the client either.
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  write_all(fd, request + "\n");
  std::string all;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    all.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  ControlAnswer answer;
  answer.error = "the running xfer's answer ended early";
  answer.exit_code = kExitInternal;
  std::size_t start = 0;
  while (start < all.size()) {
    const auto nl = all.find('\n', start);
    const std::string line = all.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? all.size() : nl + 1;
    const auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("ok")) {
      answer.ok = j.value("ok", false);
      answer.error = j.value("error", "");
      answer.exit_code = answer.ok ? kExitOk : j.value("exit_code", static_cast<int>(kExitInternal));
      break;
    }
    answer.lines.push_back(line);
  }
  return answer;
}

bool control_answers(const std::string& journal_dir) {
  return ask_control(journal_dir, R"({"v":1,"verb":"ping"})").has_value();
}

}  // namespace xfer::cli
