// A full disk under xfer-testserver: --data or --root on a small tmpfs, mounted in a private
// user and mount namespace (unshare -rm) that the server runs in. A full disk answers 507
// (Insufficient Storage), not 500, the upload stays resumable, and parent directories made for
// a file that could not be stored are removed again. The test reads the server's view of its
// file systems through /proc/<pid>/root. Where unprivileged namespaces are not allowed, the
// test says so and passes without checking.
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/files.h"
#include "tests/support/temp_dir.h"
#include "tests/support/testserver_process.h"
#include "tests/testserver/ts_helpers.h"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// "mount -t tmpfs -o size=S xts 'DIR' && ..." for each (dir, size).
std::string mount_script(const std::vector<std::pair<fs::path, std::string>>& mounts) {
  std::string script;
  for (const auto& [dir, size] : mounts) script += "mount -t tmpfs -o size=" + size + " xts '" + dir.string() + "' && ";
  return script;
}

bool namespaces_available(const fs::path& probe_dir) {
  fs::create_directories(probe_dir);
  const auto r = xts_test::run_process(
      {"unshare", "-rm", "sh", "-c", mount_script({{probe_dir, "64k"}}) + "true"}, 10s);
  return r.exit_code == 0;
}

struct SmallDiskServer {
  xfer::test::TempDir dir{"xts-disk-full"};
  fs::path root = dir / "root";
  fs::path data = dir / "data";
  std::unique_ptr<xfer::test::TestServerProcess> server;
  int files = 0;

  bool start(const std::vector<std::pair<fs::path, std::string>>& mounts) {
    if (!namespaces_available(dir / "probe")) return false;
    xfer::test::TestServerOptions o;
    o.root = root;
    o.data = data;
    o.tls = false;
    o.log_file = dir / "server.log";
    o.wrapper = {"unshare", "-rm", "sh", "-c", mount_script(mounts) + "exec \"$@\"", "sh"};
    server = xfer::test::TestServerProcess::start(o);
    return true;
  }

  // A path as the server sees it (inside its mount namespace).
  fs::path seen(const fs::path& p) const { return fs::path("/proc/" + std::to_string(server->pid()) + "/root") / p.relative_path(); }

  std::string body(std::uint64_t size) {
    const auto p = dir / ("body" + std::to_string(files++));
    xfer::test::write_pattern_file(p, size, 9);
    return p.string();
  }

  xts_test::CurlResult curl(std::vector<std::string> args) {
    return xts_test::curl((dir / ("out" + std::to_string(files++))).string(), std::move(args));
  }
  std::string url(const std::string& path) const { return server->http_origin() + path; }
};

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  return out;
}

}  // namespace

TEST_CASE("a full --data disk answers 507 Insufficient Storage, and uploads go on once there is room",
          "[testserver][safety][disk-full]") {
  SmallDiskServer s;
  if (!s.start({{s.data, "1m"}})) {
    WARN("unshare -rm with a tmpfs mount is not allowed here: the full-disk test did not run");
    return;
  }
  const auto big = s.body(3 << 20);
  const auto small = s.body(100'000);

  // Resumable creation: the part file cannot take 3 MiB.
  const auto r = s.curl({"-X", "PUT", "-H", "Upload-Complete: ?1", "--data-binary", "@" + big, s.url("/files/big.bin")});
  CHECK(r.status() == 507);
  CHECK(r.body.find("\"code\":\"insufficient-storage\"") != std::string::npos);
  CHECK(r.final_response().header("upload-offset") == "0");  // this request's bytes were dropped again
  // A plain PUT likewise.
  CHECK(s.curl({"-X", "PUT", "--data-binary", "@" + big, s.url("/files/plain.bin")}).status() == 507);

  // The bytes of the failed requests were given back: a small upload fits.
  CHECK(s.curl({"-X", "PUT", "-H", "Upload-Complete: ?1", "--data-binary", "@" + small, s.url("/files/small.bin")})
            .status() == 201);
  CHECK(xfer::test::sha256_file(s.root / "small.bin") == xfer::test::sha256_file(small));

  // An append that does not fit: 507, and the upload keeps the offset it had.
  const auto created = s.curl({"-H", "Upload-Draft-Interop-Version: 6", "-H", "Upload-Complete: ?0",
                               "--data-binary", "@" + small, s.url("/uploads")});
  REQUIRE(created.status() == 201);
  const auto upload = xts_test::path_of_location(*created.final_response().header("location"));
  const auto append = s.curl({"-X", "PATCH", "-H", "Upload-Draft-Interop-Version: 6", "-H", "Upload-Complete: ?1",
                              "-H", "Upload-Offset: 100000", "-H", "Content-Type: application/partial-upload",
                              "--data-binary", "@" + big, s.url(upload)});
  CHECK(append.status() == 507);
  const auto head = s.curl({"-I", "-H", "Upload-Draft-Interop-Version: 6", s.url(upload)});
  CHECK(head.final_response().header("upload-offset") == "100000");
  CHECK(s.server->running());
}

TEST_CASE("a full --root: 507, the upload stays resumable, and the directories made for it are removed",
          "[testserver][safety][disk-full]") {
  SmallDiskServer s;
  // Separate file systems, so completion copies into --root (and that copy runs out of room).
  if (!s.start({{s.root, "1m"}, {s.data, "8m"}})) {
    WARN("unshare -rm with a tmpfs mount is not allowed here: the full-disk test did not run");
    return;
  }
  const auto big = s.body(2 << 20);
  const auto r = s.curl({"-X", "PUT", "-H", "Upload-Complete: ?1", "--data-binary", "@" + big,
                         s.url("/files/n1/n2/n3/big.bin")});
  CHECK(r.status() == 507);
  CHECK(r.final_response().header("upload-offset") == std::to_string(2 << 20));
  CHECK(r.final_response().header("upload-complete") == "?0");  // not complete: it can be finished later
  const auto* interim = r.interim(104);
  REQUIRE(interim != nullptr);
  const auto upload = xts_test::path_of_location(*interim->header("location"));
  CHECK(entries(s.seen(s.root)).empty());  // n1/n2/n3 and the copy's temporary file are gone

  const auto head = s.curl({"-I", s.url(upload)});
  CHECK(head.status() == 204);
  CHECK(head.final_response().header("upload-offset") == std::to_string(2 << 20));
  // Interop 10 (the default) says nothing about completeness until the upload is complete.
  CHECK(head.final_response().header("upload-complete").value_or("?0") == "?0");

  // A directory that holds something else stays; only the empty ones made for the file go.
  CHECK(s.curl({"-X", "PUT", "-H", "Upload-Complete: ?1", "--data-binary", "hello", s.url("/files/n1/small.txt")})
            .status() == 201);
  const auto finish = s.curl({"-X", "PATCH", "-H", "Upload-Complete: ?1", "-H",
                              "Upload-Offset: " + std::to_string(2 << 20), "-H",
                              "Content-Type: application/partial-upload", "--data-binary", "", s.url(upload)});
  CHECK(finish.status() == 507);
  CHECK(entries(s.seen(s.root)) == std::vector<std::string>{"n1"});
  CHECK(entries(s.seen(s.root / "n1")) == std::vector<std::string>{"small.txt"});
  CHECK(s.server->running());
}
