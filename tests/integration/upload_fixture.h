// The fixture of the `xfer put` integration tests: a source file of pattern bytes, a real
// xfer-testserver, the uploads it completed, and each one read back by `xfer get` and compared by
// SHA-256 (shared by the TCP and the HTTP/3 upload tests).
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/engine_harness.h"
#include "tests/support/files.h"

namespace xfer::test {

struct UploadFixture {
  TempDir dir{"xfer-put"};
  std::unique_ptr<TestServerProcess> server;
  std::filesystem::path source;
  std::string source_sha;

  explicit UploadFixture(std::uint64_t size, std::vector<std::string> server_args = {}) {
    std::filesystem::create_directories(dir / "root");
    source = dir / "src.bin";
    write_pattern_file(source, size, 23);
    source_sha = sha256_file(source);
    server = start_server(dir, std::move(server_args));
  }
  std::string journal(const std::string& name = "j") const { return (dir / name).string(); }

  // The uploads the server completed, by file name under /files/uploads/.
  std::set<std::string> completed() const {
    std::set<std::string> out;
    const auto uploads = dir / "root" / "uploads";
    if (!std::filesystem::exists(uploads)) return out;
    for (const auto& e : std::filesystem::directory_iterator(uploads)) out.insert(e.path().filename().string());
    return out;
  }

  // Reads an upload back over HTTP with `xfer get` and returns its SHA-256.
  std::string read_back(const std::string& name) {
    const auto out = dir / "readback" / name;
    auto r = run_cli({"get", server->http_origin() + "/files/uploads/" + name, "-o", out.string(),
                      "--journal", journal("readback-journal")});
    INFO(r.stderr_text);
    REQUIRE(r.exit_code == 0);
    return sha256_file(out);
  }

  // Exactly one upload completed since `before`, and it holds the source's bytes.
  void check_one_new_upload(const std::set<std::string>& before) {
    std::set<std::string> fresh;
    for (const auto& name : completed())
      if (!before.contains(name)) fresh.insert(name);
    REQUIRE(fresh.size() == 1);
    CHECK(read_back(*fresh.begin()) == source_sha);
  }
};

inline std::vector<std::string> put_args(const UploadFixture& f, const std::string& url,
                                  std::vector<std::string> extra) {
  std::vector<std::string> args{"put", f.source.string(), url, "--journal", f.journal()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}


}  // namespace xfer::test
