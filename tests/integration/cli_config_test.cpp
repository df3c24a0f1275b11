// The config file ($XDG_CONFIG_HOME/xfer/config.toml, or --config FILE): its defaults reach the
// verb (journal, rate limit, a [get] table's directory), the command line overrides them, and a
// mistake in it — an unknown key, a value of the wrong kind or out of range, broken TOML, a
// named file that is missing, two settings that exclude each other — is a usage error naming
// the file and line before anything is transferred.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/integration/engine_harness.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;

namespace {

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// XDG_CONFIG_HOME for the children this test starts, restored after.
struct ConfigHome {
  explicit ConfigHome(const fs::path& dir) {
    if (const char* old = std::getenv("XDG_CONFIG_HOME")) saved = old;
    ::setenv("XDG_CONFIG_HOME", dir.c_str(), 1);
  }
  ~ConfigHome() {
    if (saved) ::setenv("XDG_CONFIG_HOME", saved->c_str(), 1);
    else ::unsetenv("XDG_CONFIG_HOME");
  }
  std::optional<std::string> saved;
};

}  // namespace

TEST_CASE("config.toml gives defaults, flags override them, and its mistakes are line-numbered usage errors",
          "[cli][config]") {
  TempDir dir("xfer-config");
  fs::create_directories(dir / "root");
  write_pattern_file(dir / "root" / "a.bin", 200'000, 5);
  write_pattern_file(dir / "root" / "b.bin", 200'000, 6);
  auto server = start_server(dir);
  const auto journal = dir / "from-config-journal";
  const auto out = dir / "from-config-out";
  fs::create_directories(out);
  ConfigHome home(dir / "config");
  write_text(dir / "config" / "xfer" / "config.toml",
             "# every verb that takes them\n"
             "journal = \"" + journal.string() + "\"\n"
             "limit-rate = \"100K\"\n"
             "retry = 1\n"
             "[get]\n"
             "dir = \"" + out.string() + "\"\n");

  SECTION("defaults reach the verb") {
    const auto started = std::chrono::steady_clock::now();
    auto got = run_cli({"get", server->http_origin() + "/files/a.bin"});
    const auto took = std::chrono::steady_clock::now() - started;
    INFO(got.stderr_text);
    REQUIRE(got.exit_code == 0);
    CHECK(sha256_file(out / "a.bin") == sha256_file(dir / "root" / "a.bin"));
    CHECK(fs::exists(journal));
    CHECK(took >= std::chrono::milliseconds(1200));  // 200 kB at 100 KiB/s (the first burst is free)
    auto listed = run_cli({"ls"});
    CHECK(listed.exit_code == 0);
    CHECK(listed.stdout_text.find("a.bin") != std::string::npos);
  }

  SECTION("the command line overrides them") {
    const auto other = dir / "other.bin";
    auto got = run_cli({"get", "--limit-rate", "off", "-o", other.string(), server->http_origin() + "/files/b.bin"});
    INFO(got.stderr_text);
    REQUIRE(got.exit_code == 0);  // -o, though the config's [get] gives dir (they exclude each other)
    CHECK(sha256_file(other) == sha256_file(dir / "root" / "b.bin"));
    CHECK_FALSE(fs::exists(out / "b.bin"));
  }

  SECTION("mistakes") {
    auto bad = [&](const std::string& text, const std::string& said) {
      write_text(dir / "bad.toml", text);
      auto r = run_cli({"get", "--config", (dir / "bad.toml").string(), "-o", (dir / "never").string(),
                        server->http_origin() + "/files/a.bin"});
      INFO(text);
      INFO(r.stderr_text);
      CHECK(r.exit_code == 2);
      CHECK(r.stderr_text.find(said) != std::string::npos);
      CHECK_FALSE(fs::exists(dir / "never"));
    };
    bad("retry = 1\nretri = 3\n", "bad.toml:2: `retri` is no flag of any verb");
    bad("[get]\nconcurrency = 4\n", "bad.toml:2: `concurrency` is no flag of `xfer get`");
    bad("[gett]\nretry = 1\n", "[gett] is no verb");
    bad("retry = \"many\"\n", "bad.toml:1: `retry`");
    bad("retry = 5000\n", "not in range");
    bad("insecure = \"yes\"\n", "`insecure` is a switch");
    bad("retry = \n", "bad.toml:1:");
    bad("insecure = true\ncacert = \"/x.pem\"\n", "exclude each other");
    bad("http1.1 = true\n", "a key with a dot must be quoted in TOML: \"http1.1\"");
    auto missing = run_cli({"ls", "--config", (dir / "nope.toml").string()});
    CHECK(missing.exit_code == 2);
    CHECK(missing.stderr_text.find("no such file") != std::string::npos);
    auto directory = run_cli({"ls", "--config", dir.path().string()});
    CHECK(directory.exit_code == 2);
    CHECK(directory.stderr_text.find("is not a regular file") != std::string::npos);
    // --no-config: the default file (here made broken) is not read at all.
    write_text(dir / "config" / "xfer" / "config.toml", "this is not toml\n");
    CHECK(run_cli({"ls"}).exit_code == 2);
    auto skipped = run_cli({"--no-config", "ls", "--journal", (dir / "no-journal").string()});
    CHECK(skipped.exit_code == 10);  // got past the config: the journal is what is missing
  }
}
