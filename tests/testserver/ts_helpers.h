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

#include "tests/support/child_process.h"

namespace xts_test {

using xfer::test::ProcResult;
using xfer::test::run_process;

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
