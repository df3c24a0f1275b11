// `--digest`: every completed file's digest on stdout as sha256sum prints it, from the bytes
// in place (downloads) or sent (uploads, stdin's included), checked here against SHA-256 of the
// files themselves; and only for the files that completed.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/integration/upload_fixture.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

// "<hex>  <path>" lines by path; anything else on stdout fails the test.
std::map<std::string, std::string> digest_lines(const std::string& out) {
  std::map<std::string, std::string> by_path;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const auto gap = line.find("  ");
    INFO(line);
    REQUIRE(gap == 64);
    by_path[line.substr(gap + 2)] = line.substr(0, gap);
  }
  return by_path;
}

}  // namespace

TEST_CASE("get --digest prints each completed file's SHA-256, none for a failed one",
          "[cli][digest]") {
  UploadFixture f(1'500'000);  // its source doubles as what the server serves
  fs::copy_file(f.source, f.dir / "root" / "a.bin");
  write_pattern_file(f.dir / "root" / "b.bin", 70'000, 4);
  const auto origin = f.server->http_origin();
  const auto out = f.dir / "out";
  auto r = run_cli({"get", "--digest", "--journal", f.journal("g"), "-d", out.string(),
                    origin + "/files/a.bin?fault=reset-after=400000,times=1", origin + "/files/b.bin",
                    origin + "/files/missing.bin"});
  INFO(r.stderr_text);
  CHECK(r.exit_code == 5);
  // Several transfers: the failure line names the one that failed.
  CHECK(r.stderr_text.find("missing.bin: http: server answered 404") != std::string::npos);
  const auto lines = digest_lines(r.stdout_text);
  REQUIRE(lines.size() == 2);
  CHECK(lines.at((out / "a.bin").string()) == sha256_file(out / "a.bin"));
  CHECK(lines.at((out / "a.bin").string()) == f.source_sha);
  CHECK(lines.at((out / "b.bin").string()) == sha256_file(f.dir / "root" / "b.bin"));

  // Without the flag stdout stays empty.
  auto quiet = run_cli({"get", "--journal", f.journal("q"), "-o", (out / "c.bin").string(),
                        origin + "/files/b.bin"});
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.stdout_text.empty());
}

TEST_CASE("put --digest prints the SHA-256 of what was sent, '-' naming stdin", "[cli][digest]") {
  UploadFixture f(2'000'000);
  auto r = run_cli(put_args(f, f.server->http_origin() + "/uploads",
                            {"--digest", "-H", "Xfer-Fault: reset-after=700000,times=1"}));
  INFO(r.stderr_text);
  REQUIRE(r.exit_code == 0);
  const auto lines = digest_lines(r.stdout_text);
  REQUIRE(lines.size() == 1);
  CHECK(lines.at(fs::absolute(f.source).lexically_normal().string()) == f.source_sha);

  auto piped = run_cli({"put", "-", f.server->http_origin() + "/uploads", "--journal", f.journal("p"),
                        "--digest"},
                       std::nullopt, std::chrono::seconds(120), f.source);
  INFO(piped.stderr_text);
  REQUIRE(piped.exit_code == 0);
  const auto from_stdin = digest_lines(piped.stdout_text);
  REQUIRE(from_stdin.size() == 1);
  CHECK(from_stdin.at("-") == f.source_sha);
}

TEST_CASE("batch --json reports digests unless --no-digest, which --digest excludes", "[cli][digest]") {
  UploadFixture f(300'000);
  fs::copy_file(f.source, f.dir / "root" / "a.bin");
  fs::create_directories(f.dir / "out");
  const auto manifest = f.dir / "m.csv";
  const auto digest_of_run = [&](const std::string& name, std::vector<std::string> extra) {
    std::ofstream(manifest) << "direction,url,file\ndownload," << f.server->http_origin()
                            << "/files/a.bin," << (f.dir / "out" / name).string() << "\n";
    std::vector<std::string> args{"batch", manifest.string(), "--json", "--journal", f.journal(name)};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_cli(args);
    INFO(r.stderr_text);
    INFO(r.stdout_text);
    REQUIRE(r.exit_code == 0);
    CHECK(sha256_file(f.dir / "out" / name) == f.source_sha);
    std::istringstream in(r.stdout_text);
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line);
      if (j.at("event") == "completed") return j.at("digest");
    }
    FAIL("no completed event");
    return nlohmann::json();
  };
  CHECK(digest_of_run("on.bin", {}) == "sha256:" + f.source_sha);
  CHECK(digest_of_run("off.bin", {"--no-digest"}).is_null());
  auto both = run_cli({"get", "--digest", "--no-digest", "--journal", f.journal("x"), "-o",
                       (f.dir / "x.bin").string(), f.server->http_origin() + "/files/a.bin"});
  CHECK(both.exit_code == 2);
  CHECK_FALSE(fs::exists(f.dir / "x.bin"));
}
