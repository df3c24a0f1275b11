// Secrets never reach the journal and must be given again after a restart; hostile waits
// (Retry-After of decades) are refused instead of slept through; retries are announced on
// stderr; the final error line says its cause once.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/integration/engine_harness.h"
#include "tests/integration/raw_http_server.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

bool journal_contains(const fs::path& journal, const std::string& needle) {
  for (const auto& entry : fs::recursive_directory_iterator(journal)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    if (bytes.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

const std::string kBody(50'000, 'z');
const std::string kPassword = "Pa55-w0rd-XYZ";
const std::string kApiKey = "key-ABCDEF-123";

}  // namespace

TEST_CASE("cli: URL passwords and secret headers are never journaled and are asked for again",
          "[cli][secrets]") {
  TempDir dir("xfer-secrets");
  // Basic dXNlcjpQYTU1LXcwcmQtWFla = "user:Pa55-w0rd-XYZ"
  RawHttpServer server([&](const std::string& head, int n) -> std::string {
    if (n == 0) {
      std::this_thread::sleep_for(3s);  // the first run is killed while it waits
      return "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
    }
    const bool authed = head.find("Authorization: Basic dXNlcjpQYTU1LXcwcmQtWFla") !=
                            std::string::npos &&
                        head.find("X-Api-Key: " + kApiKey) != std::string::npos;
    if (!authed) return "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kBody.size()) + "\r\n\r\n" +
           kBody;
  });
  const auto journal = dir / "journal";
  const auto dest = dir / "out.bin";
  const std::string url =
      "http://user:" + kPassword + "@127.0.0.1:" + std::to_string(server.port()) + "/f.bin";
  auto first = run_cli({"get", url, "-H", "X-Api-Key: " + kApiKey, "-H", "X-Trace: visible",
                        "-o", dest.string(), "--journal", journal.string()},
                       1500ms);
  CHECK(first.exit_code == -9);
  CHECK_FALSE(journal_contains(journal, kPassword));
  CHECK_FALSE(journal_contains(journal, kApiKey));
  CHECK(journal_contains(journal, "X-Trace"));  // ordinary headers are kept for the resume

  auto without = run_cli({"resume", "--journal", journal.string()});
  INFO(without.stderr_text);
  CHECK(without.exit_code == 2);
  CHECK(without.stderr_text.find("X-Api-Key") != std::string::npos);
  CHECK(without.stderr_text.find("url-userinfo") != std::string::npos);
  CHECK_FALSE(fs::exists(dest));

  auto with = run_cli({"resume", "--journal", journal.string(), "-H", "X-Api-Key: " + kApiKey,
                       "--user", "user:" + kPassword});
  INFO(with.stderr_text);
  REQUIRE(with.exit_code == 0);
  CHECK(sha256_file(dest) == sha256_hex(kBody.data(), kBody.size()));
  CHECK_FALSE(journal_contains(journal, kPassword));
  CHECK_FALSE(journal_contains(journal, kApiKey));
}

TEST_CASE("cli: a Retry-After of decades is refused at once with the HTTP exit code",
          "[cli][retry]") {
  TempDir dir("xfer-retry-after");
  for (const std::string value : {"1000000000", "Fri, 31 Dec 9999 23:59:59 GMT"}) {
    RawHttpServer server([&](const std::string&, int) -> std::string {
      return "HTTP/1.1 503 Service Unavailable\r\nRetry-After: " + value +
             "\r\nContent-Length: 0\r\n\r\n";
    });
    const auto started = std::chrono::steady_clock::now();
    auto r = run_cli({"get", server.origin() + "/f", "-o", (dir / "f").string(), "--journal",
                      (dir / "j").string()},
                     std::nullopt, 60s);
    INFO(r.stderr_text);
    CHECK(r.exit_code == 5);
    CHECK(r.stderr_text.find("Retry-After") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - started < 20s);
    CHECK(server.requests() == 1);
  }
}

TEST_CASE("cli: retries are announced one line each - the final line states its cause once",
          "[cli][retry]") {
  TempDir dir("xfer-retry-lines");
  // A port nobody listens on: bind, note the port, close.
  std::uint16_t port = 0;
  { RawHttpServer probe([](const std::string&, int) { return std::string(); }); port = probe.port(); }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/f";
  auto r = run_cli({"get", url, "-o", (dir / "f").string(), "--journal", (dir / "j").string(),
                    "--retry", "2", "--retry-max-wait", "200ms"},
                   std::nullopt, 60s);
  INFO(r.stderr_text);
  CHECK(r.exit_code == 3);
  CHECK(count(r.stderr_text, "retrying in") == 2);
  CHECK(count(r.stderr_text, "attempt 2 of 3") == 1);
  const auto last_start = r.stderr_text.rfind("xfer: ", r.stderr_text.size() - 2);
  const std::string last = r.stderr_text.substr(last_start);
  CHECK(count(last, "curl error 7") == 1);
  CHECK(last.find("gave up after 3 attempts") != std::string::npos);

  auto bad = run_cli({"get", url, "--retry-max-wait", "soon", "-o", (dir / "g").string()});
  CHECK(bad.exit_code == 2);
}

TEST_CASE("cli: -H headers stay with their origin across redirects unless --location-trusted",
          "[cli][secrets]") {
  TempDir dir("xfer-redirect-headers");
  std::atomic<int> saw_key{0}, saw_trace{0};
  RawHttpServer other([&](const std::string& head, int) -> std::string {
    if (head.find("X-Api-Key: " + kApiKey) != std::string::npos) ++saw_key;
    if (head.find("X-Trace: t") != std::string::npos) ++saw_trace;
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kBody.size()) + "\r\n\r\n" +
           kBody;
  });
  RawHttpServer first([&](const std::string&, int) -> std::string {
    return "HTTP/1.1 302 Found\r\nLocation: " + other.origin() +
           "/f.bin\r\nContent-Length: 0\r\n\r\n";
  });
  auto plain = run_cli({"get", first.origin() + "/f.bin", "-H", "X-Api-Key: " + kApiKey, "-H",
                        "X-Trace: t", "-o", (dir / "a.bin").string(), "--journal",
                        (dir / "j").string()});
  INFO(plain.stderr_text);
  REQUIRE(plain.exit_code == 0);
  CHECK(saw_key == 0);
  CHECK(saw_trace == 0);  // every user header, not only the secret-looking ones
  auto trusted = run_cli({"get", first.origin() + "/f.bin", "-H", "X-Api-Key: " + kApiKey, "-H",
                          "X-Trace: t", "-o", (dir / "b.bin").string(), "--journal",
                          (dir / "j").string(), "--location-trusted"});
  INFO(trusted.stderr_text);
  REQUIRE(trusted.exit_code == 0);
  CHECK(saw_key == 1);
  CHECK(saw_trace == 1);
  CHECK(sha256_file(dir / "b.bin") == sha256_hex(kBody.data(), kBody.size()));
}
