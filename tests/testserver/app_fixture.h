// AppServer: one xfer-testserver (cleartext listener) in a fresh temp dir for the application
// tests, plus shorthands for curl against it. Server stderr (fault records) goes to a log file
// the tests can read.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/files.h"
#include "tests/support/temp_dir.h"
#include "tests/support/testserver_process.h"
#include "tests/testserver/ts_helpers.h"

namespace xts_app_test {

inline const std::string kExpect100Off = "Expect:";

struct AppServer {
  xfer::test::TempDir dir{"xts-app"};
  std::filesystem::path root = dir / "root";
  std::filesystem::path data = dir / "data";
  std::filesystem::path log = dir / "server.log";
  std::unique_ptr<xfer::test::TestServerProcess> server;
  int body_counter = 0;

  explicit AppServer(std::vector<std::string> extra_args = {}) {
    std::filesystem::create_directories(root);
    xfer::test::TestServerOptions o;
    o.root = root;
    o.data = data;
    o.tls = false;
    o.plain = true;
    o.extra_args = std::move(extra_args);
    o.log_file = log;
    server = xfer::test::TestServerProcess::start(o);
  }

  std::string url(const std::string& path) const { return server->http_origin() + path; }

  std::string next_body_file() { return (dir / ("body" + std::to_string(body_counter++))).string(); }

  xts_test::CurlResult curl(std::vector<std::string> args,
                            std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    return xts_test::curl(next_body_file(), std::move(args), timeout);
  }

  std::string server_log() const { return xts_test::read_all(log.string()); }
};

// Interop-version headers for a request that creates an upload with the given completeness.
inline std::vector<std::string> creation_headers(int version, bool complete) {
  std::vector<std::string> h{"-H", "Upload-Draft-Interop-Version: " + std::to_string(version)};
  if (version == 3) {
    h.insert(h.end(), {"-H", std::string("Upload-Incomplete: ") + (complete ? "?0" : "?1")});
  } else {
    h.insert(h.end(), {"-H", std::string("Upload-Complete: ") + (complete ? "?1" : "?0")});
  }
  return h;
}

// Headers of an append (PATCH) in the version's dialect.
inline std::vector<std::string> append_headers(int version, std::uint64_t offset, bool complete) {
  auto h = creation_headers(version, complete);
  h.insert(h.end(), {"-X", "PATCH", "-H", "Upload-Offset: " + std::to_string(offset)});
  if (version >= 6) h.insert(h.end(), {"-H", "Content-Type: application/partial-upload"});
  return h;
}

inline std::string completeness_field(int version) { return version == 3 ? "upload-incomplete" : "upload-complete"; }
// Value of the completeness field for an upload that is (not) complete.
inline std::string completeness_value(int version, bool complete) {
  if (version == 3) return complete ? "?0" : "?1";
  return complete ? "?1" : "?0";
}

// Writes bytes [from, to) of src into a new file and returns its path.
inline std::string slice_file(const std::filesystem::path& src, std::uint64_t from, std::uint64_t to,
                              const std::filesystem::path& out) {
  const auto all = xts_test::read_all(src.string());
  std::ofstream f(out, std::ios::binary);
  f.write(all.data() + from, static_cast<std::streamsize>(to - from));
  return out.string();
}

template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace xts_app_test
