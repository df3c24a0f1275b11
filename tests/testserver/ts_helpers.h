// Helpers for the xfer-testserver application tests: run curl (the real client) as a child
// process with a deadline, parse its `-D -` header dump (interim 104s included), and a few
// request shorthands. Every child is waited for; none outlives its call.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace xts_test {

struct ProcResult {
  int exit_code = -1;  // -1: killed by the deadline or a signal
  std::string out;
  std::string err;
};

// Runs argv with stdout/stderr captured; kills it after `timeout`.
inline ProcResult run_process(const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ProcResult r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool out_open = true, err_open = true, killed = false;
  char buf[65536];
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    ::poll(fds, 2, killed ? 1000 : static_cast<int>(std::min<long>(left.count(), 1000)));
    for (int i = 0; i < 2; ++i) {
      bool& open = i == 0 ? out_open : err_open;
      if (!open || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const auto n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        open = false;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = (!killed && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return r;
}

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::optional<std::string> header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return std::nullopt;
  }
};

// Splits curl's `-D -` dump into the responses in order (interim ones too).
inline std::vector<Response> parse_header_dump(const std::string& dump) {
  std::vector<Response> out;
  std::istringstream in(dump);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("HTTP/", 0) == 0) {
      Response r;
      const auto sp = line.find(' ');
      if (sp != std::string::npos) r.status = std::stoi(line.substr(sp + 1, 3));
      out.push_back(r);
    } else if (!line.empty() && !out.empty()) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      out.back().headers.emplace_back(name, value);
    }
  }
  return out;
}

struct CurlResult {
  int exit_code = -1;
  std::vector<Response> responses;  // interim and final, in order
  std::string body;                 // the final body (from the -o file)
  std::string err;
  const Response& final_response() const {
    static const Response kNone;
    return responses.empty() ? kNone : responses.back();
  }
  int status() const { return final_response().status; }
  const Response* interim(int code) const {
    for (const auto& r : responses) {
      if (r.status == code) return &r;
    }
    return nullptr;
  }
};

inline std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// curl with -sS, headers dumped to stdout, body into body_file; extra args appended.
inline CurlResult curl(const std::string& body_file, std::vector<std::string> args,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  std::vector<std::string> argv{"curl", "-sS", "--max-time", std::to_string(timeout.count() / 1000 + 1), "-D", "-",
                                "-o", body_file, "-H", "Expect:"};
  argv.insert(argv.end(), args.begin(), args.end());
  ::unlink(body_file.c_str());
  const auto p = run_process(argv, timeout + std::chrono::seconds(5));
  CurlResult r;
  r.exit_code = p.exit_code;
  r.responses = parse_header_dump(p.out);
  r.body = read_all(body_file);
  r.err = p.err;
  return r;
}

inline std::string path_of_location(const std::string& location) {
  const auto scheme = location.find("://");
  if (scheme == std::string::npos) return location;
  const auto slash = location.find('/', scheme + 3);
  return slash == std::string::npos ? "/" : location.substr(slash);
}

}  // namespace xts_test
