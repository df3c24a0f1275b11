// `xfer batch` against the real test server: line-numbered manifest errors while the good lines
// transfer, the --json event stream parsed line by line, mixed downloads and uploads under random
// server faults checked by SHA-256, SIGINT (once, and twice) then `xfer resume` and a re-run that
// transfers nothing twice, and a 100,000-line manifest read in bounded memory.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/integration/engine_harness.h"
#include "tests/support/files.h"

using namespace xfer;
using namespace xfer::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string cli_path() {
  const char* override_binary = std::getenv("XFER_CLI_BINARY");
  return override_binary && *override_binary ? override_binary : XFER_CLI_PATH;
}

struct BatchResult {
  int exit_code = -1;  // -signal when killed
  std::string out;
  std::string err;
  long max_rss_kib = 0;  // the child's peak resident set (getrusage of the child via wait4)
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `xfer ARGS` with stdout and stderr into files (no pipe to keep drained), stdin from
// `stdin_from` or /dev/null.
BatchResult run_xfer(const fs::path& scratch, const std::vector<std::string>& args, const fs::path& stdin_from = {},
                     std::chrono::seconds timeout = std::chrono::seconds(300)) {
  const auto out_path = scratch / "stdout.txt";
  const auto err_path = scratch / "stderr.txt";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int in = ::open(stdin_from.empty() ? "/dev/null" : stdin_from.c_str(), O_RDONLY);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::dup2(in, 0);
    std::vector<std::string> argv{cli_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    exec_in_child(argv);
  }
  BatchResult r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  rusage usage{};
  for (;;) {
    const pid_t done = ::wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::wait4(pid, &status, 0, &usage);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  r.max_rss_kib = usage.ru_maxrss;
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

std::vector<json> json_lines(const std::string& out) {
  std::vector<json> events;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    INFO(line);
    REQUIRE_NOTHROW(events.push_back(json::parse(line)));
  }
  return events;
}

std::size_t count_events(const std::vector<json>& events, const std::string& name) {
  std::size_t n = 0;
  for (const auto& e : events) n += e.at("event") == name;
  return n;
}

json download_line(const std::string& url, const fs::path& file, const std::string& checksum = "") {
  json j{{"direction", "download"}, {"url", url}, {"file", file.string()}};
  if (!checksum.empty()) j["checksum"] = checksum;
  return j;
}

json upload_line(const fs::path& file, const std::string& url, const std::string& checksum = "") {
  json j{{"direction", "upload"}, {"url", url}, {"file", file.string()}};
  if (!checksum.empty()) j["checksum"] = checksum;
  return j;
}

struct BatchFixture {
  TempDir dir{"xfer-batch"};
  std::unique_ptr<TestServerProcess> server;

  explicit BatchFixture(std::vector<std::string> server_args = {}) {
    fs::create_directories(dir / "root" / "dl");
    fs::create_directories(dir / "src");
    fs::create_directories(dir / "out");
    server = start_server(dir, std::move(server_args));
  }
  std::string journal() const { return (dir / "journal").string(); }

  // A file served under /files/dl/NAME; returns its SHA-256.
  std::string serve(const std::string& name, std::uint64_t size, std::uint64_t seed) {
    write_pattern_file(dir / "root" / "dl" / name, size, seed);
    return sha256_file(dir / "root" / "dl" / name);
  }
  // A local upload source src/NAME; returns its SHA-256.
  std::string source(const std::string& name, std::uint64_t size, std::uint64_t seed) {
    write_pattern_file(dir / "src" / name, size, seed);
    return sha256_file(dir / "src" / name);
  }
  void write_manifest(const fs::path& path, const std::vector<std::string>& lines) const {
    std::ofstream out(path);
    for (const auto& l : lines) out << l << "\n";
  }
  BatchResult batch(const fs::path& manifest, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"batch", manifest.string(), "--journal", journal(), "--cacert",
                                  server->cert().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_xfer(dir.path(), args);
  }
};

// Mixed downloads and uploads of small files over HTTP/2 (TLS), while the server resets
// connections and answers 503 at random; every file must arrive with its bytes.
void mixed_batch_under_faults(std::size_t entries) {
  BatchFixture f({"--fault", "reset-after=3000,chance=0.08,status=503,chance=0.05", "--fault-seed", "7",
                  "--control"});
  std::mt19937_64 rng(Catch::rngSeed());
  std::vector<std::string> lines;
  std::map<fs::path, std::string> expected;  // file -> SHA-256
  std::map<std::string, std::string> digest_of_entry;  // the entry's "file" -> SHA-256
  for (std::size_t i = 0; i < entries; ++i) {
    const auto size = std::uniform_int_distribution<std::uint64_t>(1, 48 * 1024)(rng);
    const std::string name = "f" + std::to_string(i) + ".bin";
    if (i % 2 == 0) {
      const auto sha = f.serve(name, size, i + 1);
      const auto dest = f.dir / "out" / name;
      expected[dest] = sha;
      digest_of_entry[fs::absolute(dest).lexically_normal().string()] = sha;
      lines.push_back(download_line(f.server->https_origin() + "/files/dl/" + name, dest,
                                    i % 4 == 0 ? "sha256:" + sha : "")
                          .dump());
    } else {
      const auto sha = f.source(name, size, i + 1);
      expected[f.dir / "root" / "up" / name] = sha;
      digest_of_entry[fs::absolute(f.dir / "src" / name).lexically_normal().string()] = sha;
      lines.push_back(upload_line(f.dir / "src" / name, f.server->https_origin() + "/files/up/" + name,
                                  i % 4 == 1 ? "sha256:" + sha : "")
                          .dump());
    }
  }
  f.write_manifest(f.dir / "m.jsonl", lines);
  auto r = f.batch(f.dir / "m.jsonl", {"--json", "--retry", "40", "--retry-max-wait", "2s", "--per-host", "16"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto events = json_lines(r.out);
  REQUIRE(!events.empty());
  const auto& summary = events.back();
  CHECK(summary.at("event") == "summary");
  CHECK(summary.at("files") == entries);
  CHECK(summary.at("failed") == 0);
  CHECK(count_events(events, "completed") == entries);
  std::size_t checked = 0;
  for (const auto& [path, sha] : expected) {
    INFO(path);
    REQUIRE(fs::exists(path));
    CHECK(sha256_file(path) == sha);
    ++checked;
  }
  CHECK(checked == entries);
  // Every completed event carries the digest of its file's bytes, through retries and restarts.
  std::map<std::uint64_t, std::string> file_of_id;
  std::size_t digests = 0;
  for (const auto& e : events) {
    if (e.at("event") == "queued") file_of_id[e.at("id")] = e.at("file");
    if (e.at("event") != "completed") continue;
    const std::string file = file_of_id[e.at("id")];
    INFO(file);
    REQUIRE(digest_of_entry.contains(file));
    CHECK(e.at("digest") == "sha256:" + digest_of_entry.at(file));
    ++digests;
  }
  CHECK(digests == entries);
  // The faults did happen, and the batch went over HTTP/2 (many files on few connections).
  auto stats = run_process({"curl", "-sk", f.server->https_origin() + "/_control/stats"});
  INFO(stats.out);
  CHECK(stats.out.find("\"h2\"") != std::string::npos);
  CHECK(summary.at("retries").get<std::size_t>() > 0);
}

// Spawns `xfer ARGS` with stdout on a pipe; returns (pid, fd).
SpawnedChild spawn_xfer(const std::vector<std::string>& args, int stderr_fd) {
  std::vector<std::string> argv{cli_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn_with_stdout_pipe(argv, stderr_fd);
}

// Reads JSON lines from `fd` until `want` "completed" events were seen (or the deadline).
std::size_t read_until_completed(int fd, std::size_t want, std::string& got,
                                 std::chrono::steady_clock::time_point deadline) {
  std::size_t completed = 0;
  std::size_t scanned = 0;
  while (completed < want && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = got.find('\n', scanned)) != std::string::npos) {
      completed += got.compare(scanned, nl - scanned, "") != 0 &&
                   got.substr(scanned, nl - scanned).find("\"event\":\"completed\"") != std::string::npos;
      scanned = nl + 1;
    }
  }
  return completed;
}

void drain(int fd, std::string& got) {
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30'000) <= 0) break;
    const auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace

TEST_CASE("xfer batch: malformed lines are reported by number while the good lines transfer", "[cli][batch]") {
  BatchFixture f;
  const auto sha_a = f.serve("a.bin", 70'000, 1);
  const auto sha_b = f.serve("b.bin", 5'000, 2);
  const auto sha_u = f.source("u.bin", 40'000, 3);
  const auto origin = f.server->http_origin();
  f.write_manifest(f.dir / "m.jsonl",
                   {
                       download_line(origin + "/files/dl/a.bin", f.dir / "out" / "a.bin").dump(),       // 1
                       "{\"direction\":\"download\",\"url\":",                                          // 2
                       "",                                                                               // 3
                       download_line(origin + "/files/dl/b.bin", f.dir / "missing-dir" / "b.bin").dump(),  // 4
                       "{\"direction\":\"down\",\"url\":\"" + origin + "/files/dl/b.bin\",\"file\":\"x\"}",  // 5
                       upload_line(f.dir / "src" / "absent.bin", origin + "/files/up/absent.bin").dump(),  // 6
                       upload_line(f.dir / "src" / "u.bin", origin + "/files/up/u.bin", "sha256:" + sha_u).dump(),  // 7
                       download_line(origin + "/files/dl/a.bin", f.dir / "out" / "a.bin").dump(),       // 8: duplicate
                       download_line(origin + "/files/dl/b.bin", f.dir / "out/").dump(),                // 9: into out/
                       download_line(origin + "/files/dl/b.bin?x", f.dir / "out" / "b.bin").dump(),     // 10: same file as 9
                   });
  auto r = f.batch(f.dir / "m.jsonl");
  INFO(r.err);
  CHECK(r.exit_code == 13);
  for (int line : {2, 4, 5, 6, 10}) CHECK_THAT(r.err, Catch::Contains("manifest line " + std::to_string(line) + ":"));
  CHECK_THAT(r.err, Catch::Contains("manifest line 8: the same entry as line 1"));
  CHECK_THAT(r.err, Catch::Contains("3 files done"));
  CHECK_THAT(r.err, Catch::Contains("5 invalid entries"));
  CHECK_THAT(r.err, Catch::Contains("1 duplicate skipped"));
  CHECK(sha256_file(f.dir / "out" / "a.bin") == sha_a);
  CHECK(sha256_file(f.dir / "out" / "b.bin") == sha_b);
  CHECK(sha256_file(f.dir / "root" / "up" / "u.bin") == sha_u);
  CHECK_FALSE(fs::exists(f.dir / "missing-dir"));

  // CSV from stdin: the same rules, line numbers counted from the header row.
  std::ofstream(f.dir / "m.csv") << "direction,url,file,checksum\n"
                                 << "download," << origin << "/files/dl/a.bin," << (f.dir / "csv-a.bin").string()
                                 << ",sha256:" << sha_a << "\n"
                                 << "download," << origin << "/files/dl/b.bin\n"
                                 << "upload," << origin << "/files/up/u2.bin,\"" << (f.dir / "src" / "u.bin").string()
                                 << "\",\n";
  auto csv = run_xfer(f.dir.path(), {"batch", "-", "--journal", f.journal()}, f.dir / "m.csv");
  INFO(csv.err);
  CHECK(csv.exit_code == 13);
  CHECK_THAT(csv.err, Catch::Contains("manifest line 3: 2 fields, the header names 4"));
  CHECK(sha256_file(f.dir / "csv-a.bin") == sha_a);
  CHECK(sha256_file(f.dir / "root" / "up" / "u2.bin") == sha_u);

  // What is no manifest at all is refused before anything happens (usage).
  std::ofstream(f.dir / "urls.txt") << origin << "/files/dl/a.bin\n";
  auto not_manifest = f.batch(f.dir / "urls.txt");
  CHECK(not_manifest.exit_code == 2);
  CHECK_THAT(not_manifest.err, Catch::Contains("line 1"));
  CHECK(f.batch(f.dir / "no-such-manifest").exit_code == 2);
}

TEST_CASE("xfer batch --json: every event one JSON object, the summary last", "[cli][batch]") {
  BatchFixture f;
  const auto sha_a = f.serve("a.bin", 300'000, 4);
  const auto sha_u = f.source("u.bin", 20'000, 5);
  const auto origin = f.server->https_origin();
  f.write_manifest(f.dir / "m.jsonl",
                   {
                       download_line(origin + "/files/dl/a.bin?fault=status=503,times=1", f.dir / "out" / "a.bin",
                                     "sha256:" + sha_a)
                           .dump(),
                       upload_line(f.dir / "src" / "u.bin", origin + "/files/up/u.bin").dump(),
                       download_line(origin + "/files/dl/missing.bin", f.dir / "out" / "missing.bin").dump(),
                       "not json",
                   });
  auto r = f.batch(f.dir / "m.jsonl", {"--json", "--retry-max-wait", "2s"});
  INFO(r.err);
  INFO(r.out);
  CHECK(r.exit_code == 13);
  const auto events = json_lines(r.out);
  REQUIRE(events.size() >= 8);
  for (const auto& e : events) {
    CHECK(e.at("v") == 1);
    CHECK(e.at("t").is_number());
  }
  CHECK(count_events(events, "queued") == 3);
  CHECK(count_events(events, "completed") == 2);
  CHECK(count_events(events, "failed") == 1);
  CHECK(count_events(events, "invalid") == 1);
  std::map<std::uint64_t, std::size_t> line_of;
  for (const auto& e : events) {
    const std::string kind = e.at("event");
    if (kind == "queued") line_of[e.at("id")] = e.at("line");
    if (kind == "completed" && e.at("line") == 1) {
      CHECK(e.at("digest") == "sha256:" + sha_a);
      CHECK(e.at("bytes") == 300'000);
    }
    // No checksum in the manifest: the digest of the bytes the upload sent, computed as it went.
    if (kind == "completed" && e.at("line") == 2) CHECK(e.at("digest") == "sha256:" + sha_u);
    if (kind == "failed") {
      CHECK(e.at("line") == 3);
      CHECK(e.at("category") == "http");
      CHECK_THAT(e.at("reason").get<std::string>(), Catch::Contains("404"));
    }
    if (kind == "retry") {
      CHECK(e.at("line") == 1);
      CHECK(e.at("category") == "http");
      CHECK(e.at("http_status") == 503);
      CHECK(e.at("at").is_string());
      CHECK(e.at("in_s").is_number());
    }
    if (kind == "invalid") CHECK(e.at("line") == 4);
    if (e.contains("id") && kind != "queued") CHECK(line_of.at(e.at("id")) == e.at("line"));
  }
  CHECK(count_events(events, "retry") >= 1);
  CHECK(count_events(events, "started") >= 3);
  const auto& summary = events.back();
  REQUIRE(summary.at("event") == "summary");
  CHECK(summary.at("files") == 2);
  CHECK(summary.at("bytes") == 320'000);
  CHECK(summary.at("failed") == 1);
  CHECK(summary.at("invalid") == 1);
  CHECK(summary.at("exit_code") == 13);
  CHECK(summary.at("failures").size() == 2);
  CHECK(summary.at("duration_s").is_number());
  CHECK(summary.at("bytes_per_second").is_number());
  CHECK(sha256_file(f.dir / "root" / "up" / "u.bin") == sha_u);
}

TEST_CASE("xfer batch: a few hundred mixed downloads and uploads under random faults", "[cli][batch]") {
  mixed_batch_under_faults(300);
}

TEST_CASE("xfer batch: 2,000 mixed downloads and uploads under random faults", "[cli][batch][torture]") {
  mixed_batch_under_faults(2000);
}

TEST_CASE("xfer batch: SIGINT mid-batch, xfer resume, then the batch again transfers nothing twice",
          "[cli][batch][signal]") {
  BatchFixture f;
  const auto origin = f.server->http_origin();
  constexpr int kEntries = 60;
  std::vector<std::string> lines;
  std::vector<std::string> shas;
  for (int i = 0; i < kEntries; ++i) {
    const std::string name = "s" + std::to_string(i) + ".bin";
    shas.push_back(f.serve(name, 100'000, 100 + i));
    lines.push_back(
        download_line(origin + "/files/dl/" + name + "?fault=throttle=150000", f.dir / "out" / name).dump());
  }
  f.write_manifest(f.dir / "m.jsonl", lines);
  const auto err_log = f.dir / "batch-stderr.txt";
  const int err_fd = ::open(err_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  // A window of 10: the interrupt comes while most of the manifest is not enqueued yet.
  auto child = spawn_xfer({"batch", (f.dir / "m.jsonl").string(), "--journal", f.journal(), "--json", "--window",
                           "10", "--concurrency", "8"},
                          err_fd);
  ::close(err_fd);
  std::string out;
  const auto done_before = read_until_completed(child.stdout_fd, 5, out, std::chrono::steady_clock::now() + std::chrono::seconds(60));
  REQUIRE(done_before >= 5);
  const auto signalled = std::chrono::steady_clock::now();
  ::kill(child.pid, SIGINT);
  drain(child.stdout_fd, out);
  const int code = wait_exit(child.pid);
  INFO(slurp(err_log));
  CHECK(code == 130);
  CHECK(std::chrono::steady_clock::now() - signalled < std::chrono::seconds(15));
  auto events = json_lines(out);
  REQUIRE(!events.empty());
  CHECK(events.back().at("event") == "summary");
  CHECK(events.back().at("interrupted") == true);
  const auto queued_first = count_events(events, "queued");
  const auto completed_first = count_events(events, "completed");
  CHECK(queued_first < static_cast<std::size_t>(kEntries));

  // resume finishes what was enqueued, and only that.
  auto resumed = run_xfer(f.dir.path(), {"resume", "--journal", f.journal()});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  std::size_t present = 0;
  for (int i = 0; i < kEntries; ++i) present += fs::exists(f.dir / "out" / ("s" + std::to_string(i) + ".bin"));
  CHECK(present == queued_first);

  // The batch again: the completed ones are skipped, the rest transferred, none twice.
  auto again = f.batch(f.dir / "m.jsonl", {"--json"});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  auto second = json_lines(again.out);
  const auto& summary = second.back();
  CHECK(summary.at("skipped") == queued_first);
  CHECK(summary.at("files") == kEntries - queued_first);
  CHECK(count_events(second, "queued") == kEntries - queued_first);
  for (int i = 0; i < kEntries; ++i)
    CHECK(sha256_file(f.dir / "out" / ("s" + std::to_string(i) + ".bin")) == shas[static_cast<std::size_t>(i)]);
  (void)completed_first;
}

TEST_CASE("xfer batch: a second SIGINT exits at once and the journal stays consistent", "[cli][batch][signal]") {
  BatchFixture f;
  const auto origin = f.server->http_origin();
  std::vector<std::string> lines;
  std::vector<std::string> shas;
  for (int i = 0; i < 12; ++i) {
    const std::string name = "h" + std::to_string(i) + ".bin";
    shas.push_back(f.serve(name, 1'000'000, 200 + i));
    lines.push_back(download_line(origin + "/files/dl/" + name + "?fault=throttle=400000", f.dir / "out" / name).dump());
  }
  f.write_manifest(f.dir / "m.jsonl", lines);
  auto child = spawn_xfer({"batch", (f.dir / "m.jsonl").string(), "--journal", f.journal(), "--json"}, -1);
  std::string out;
  // Wait until bytes are moving, then two signals back to back.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (out.find("\"event\":\"progress\"") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{child.stdout_fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const auto n = ::read(child.stdout_fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  REQUIRE(out.find("\"event\":\"progress\"") != std::string::npos);
  ::kill(child.pid, SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto second = std::chrono::steady_clock::now();
  ::kill(child.pid, SIGINT);
  const int code = wait_exit(child.pid);
  ::close(child.stdout_fd);
  CHECK(code == 130);
  CHECK(std::chrono::steady_clock::now() - second < std::chrono::seconds(2));
  auto resumed = run_xfer(f.dir.path(), {"resume", "--journal", f.journal()});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  for (int i = 0; i < 12; ++i)
    CHECK(sha256_file(f.dir / "out" / ("h" + std::to_string(i) + ".bin")) == shas[static_cast<std::size_t>(i)]);
}

TEST_CASE("xfer batch - from a slow pipe starts the entries it has before the rest arrives", "[cli][batch]") {
  BatchFixture f;
  const auto origin = f.server->http_origin();
  std::vector<std::string> shas;
  std::vector<std::string> lines;
  for (int i = 0; i < 5; ++i) {
    const std::string name = "p" + std::to_string(i) + ".bin";
    shas.push_back(f.serve(name, 10'000, 300 + i));
    lines.push_back(download_line(origin + "/files/dl/" + name, f.dir / "out" / name).dump() + "\n");
  }
  int in[2], out[2];
  REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    exec_in_child({cli_path(), "batch", "-", "--journal", f.journal(), "--json"});
  }
  ::close(in[0]);
  ::close(out[1]);
  // Three entries, far fewer than a window, then silence: they must run now, not once 512
  // lines or the end of the input arrived.
  for (int i = 0; i < 3; ++i) REQUIRE(::write(in[1], lines[i].data(), lines[i].size()) == static_cast<ssize_t>(lines[i].size()));
  std::string got;
  const auto early = read_until_completed(out[0], 3, got, std::chrono::steady_clock::now() + std::chrono::seconds(20));
  CHECK(early == 3);
  for (int i = 3; i < 5; ++i) REQUIRE(::write(in[1], lines[i].data(), lines[i].size()) == static_cast<ssize_t>(lines[i].size()));
  ::close(in[1]);
  drain(out[0], got);
  CHECK(wait_exit(pid) == 0);
  auto events = json_lines(got);
  REQUIRE(!events.empty());
  CHECK(events.back().at("files") == 5);
  for (int i = 0; i < 5; ++i)
    CHECK(sha256_file(f.dir / "out" / ("p" + std::to_string(i) + ".bin")) == shas[static_cast<std::size_t>(i)]);
}

TEST_CASE("xfer batch --dry-run streams a 100,000-line manifest in bounded memory", "[cli][batch][scale]") {
  TempDir dir("xfer-batch-scale");
  fs::create_directories(dir / "out");
  const auto manifest = dir / "big.jsonl";
  std::uint64_t manifest_bytes = 0;
  {
    std::ofstream out(manifest);
    // Long URLs and paths (about 330 bytes a line) so that holding the entries would show.
    const std::string pad(120, 'p');
    for (int i = 0; i < 100'000; ++i) {
      // Every 1000th line repeats the one before it.
      const int n = i % 1000 == 999 ? i - 1 : i;
      const std::string line = download_line("https://files.example.com/" + pad + "/" + std::to_string(n),
                                             dir / "out" / (pad + std::to_string(n)))
                                   .dump();
      out << line << "\n";
      manifest_bytes += line.size() + 1;
    }
  }
#if defined(__SANITIZE_ADDRESS__)
  // ASan keeps freed memory in quarantine (256 MiB by default), so peak RSS would count every
  // line ever parsed: the children measured here free at once.
  const std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  ::setenv("ASAN_OPTIONS", (asan + (asan.empty() ? "" : ":") + "quarantine_size_mb=0").c_str(), 1);
  struct RestoreAsan {
    std::string value;
    ~RestoreAsan() { ::setenv("ASAN_OPTIONS", value.c_str(), 1); }
  } restore{asan};
#endif
  // The process's own floor (shared libraries, allocator) with a one-line manifest.
  {
    std::ofstream one(dir / "one.jsonl");
    one << download_line("https://files.example.com/one", dir / "out" / "one").dump() << "\n";
  }
  auto base = run_xfer(dir.path(), {"batch", (dir / "one.jsonl").string(), "--dry-run"});
  REQUIRE(base.exit_code == 0);
  auto r = run_xfer(dir.path(), {"batch", manifest.string(), "--dry-run", "--journal", (dir / "j").string()});
  INFO(r.err.substr(r.err.size() > 2000 ? r.err.size() - 2000 : 0));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("99900 entries to transfer"));
  CHECK_THAT(r.err, Catch::Contains("100 duplicates skipped"));
  // A dry run opens no journal.
  CHECK_FALSE(fs::exists(dir / "j"));
  // Holding the entries would need at least the manifest's bytes (33 MB), in practice more;
  // the reader holds one line, and deduplication 12 bytes a slot in two tables.
  const long grew_kib = r.max_rss_kib - base.max_rss_kib;
  WARN("peak RSS " << r.max_rss_kib << " KiB (" << base.max_rss_kib << " KiB for one line, +" << grew_kib
                   << " KiB) for a " << manifest_bytes / 1024 << " KiB manifest of 100,000 lines");
  CHECK(grew_kib < 8 * 1024);
  CHECK(static_cast<std::uint64_t>(grew_kib) * 1024 < manifest_bytes / 4);
}
