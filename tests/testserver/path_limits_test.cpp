// Path limits (docs/testserver.md: 32 segments, 255 bytes per segment, 1024 bytes): a deeper or
// longer path gets 414 with a problem body before anything touches the disk. Once a PUT to a
// 3,000-level path took ~140 s, left ~2,000 directories in --root and made every later start
// walk every prefix of it again; start-up must stay quick whatever an old record names.
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <leveldb/db.h>
#include <nlohmann/json.hpp>

#include "tests/testserver/app_fixture.h"

using namespace std::chrono_literals;
using namespace xts_app_test;
namespace fs = std::filesystem;

namespace {

std::string deep_path(int levels) {
  std::string p;
  for (int i = 1; i < levels; ++i) p += "d/";
  return p + "f.bin";
}

std::size_t entries(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a PUT to a 3,000-level path gets 414 at once and leaves nothing behind", "[testserver][safety][paths]") {
  AppServer s;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-X", "PUT", "-H", "Upload-Complete: ?1"},
           {"-X", "POST", "-H", "Upload-Draft-Interop-Version: 6", "-H", "Upload-Complete: ?0"},
           {"-X", "PUT"},
           {"--http2-prior-knowledge", "-X", "PUT", "-H", "Upload-Complete: ?1"}}) {
    auto a = args;
    // No body over h2: curl 7.88 reports error 92 for an answer that comes before the request
    // body, followed by RST_STREAM(NO_ERROR) (which RFC 9113 §8.1 allows).
    if (a.front() != "--http2-prior-knowledge") a.insert(a.end(), {"--data-binary", "x"});
    a.push_back(s.url("/files/" + deep_path(3000)));
    const auto start = std::chrono::steady_clock::now();
    const auto r = s.curl(a);
    const auto took = std::chrono::steady_clock::now() - start;
    std::string what;
    for (const auto& arg : args) what += arg + " ";
    WARN(what << "-> answered in " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                     << " ms");
    CHECK(r.status() == 414);
    CHECK(r.body.find("\"code\":\"path-too-long\"") != std::string::npos);
    CHECK(r.interim(104) == nullptr);  // refused before an upload was created
    CHECK(took < 2s);
  }
  CHECK(s.curl({s.url("/files/" + deep_path(3000))}).status() == 414);
  CHECK(entries(s.root) == 0);
  CHECK(entries(s.data / "parts") == 0);
}

TEST_CASE("path limits: 32 segments, 255 bytes a segment, 1024 bytes in all", "[testserver][safety][paths]") {
  AppServer s;
  const auto put = [&](const std::string& rel) {
    return s.curl({"-X", "PUT", "-H", "Upload-Complete: ?1", "--data-binary", "x", s.url("/files/" + rel)}).status();
  };
  CHECK(put(deep_path(32)) == 201);
  CHECK(fs::exists(s.root / deep_path(32)));
  CHECK(put("e/" + deep_path(32)) == 414);
  CHECK(put(std::string(255, 'n')) == 201);
  CHECK(put(std::string(256, 'n')) == 414);
  std::string long_path;  // 1024 bytes in 5 segments
  for (int i = 0; i < 4; ++i) long_path += std::string(200, static_cast<char>('a' + i)) + "/";
  const auto at_limit = long_path + std::string(1024 - long_path.size(), 'z');
  CHECK(put(at_limit) == 201);
  CHECK(put(at_limit + "z") == 414);
  CHECK(s.curl({s.url("/files/" + deep_path(33))}).status() == 414);
  CHECK(s.curl({s.url("/files/" + deep_path(32))}).status() == 200);
}

TEST_CASE("start-up stays quick when a record names a 3,000-level path, and drops that record",
          "[testserver][safety][paths]") {
  AppServer s;
  REQUIRE(s.curl({s.url("/files/missing")}).status() == 404);
  s.server->stop();
  // What an older server left behind: a completed upload whose move into --root never worked.
  const std::string id = "0123456789abcdef0123456789abcdef";
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  const nlohmann::json rec = {{"id", id},          {"version", 9},        {"dest", deep_path(3000)},
                              {"offset", 1},       {"length", 1},         {"complete", true},
                              {"max_size", 1ull << 40}, {"min_size", 0},  {"max_age", 86400},
                              {"created", now},    {"expires", now + 86400}};
  {
    leveldb::DB* db = nullptr;
    leveldb::Options options;
    REQUIRE(leveldb::DB::Open(options, (s.data / "uploads.db").string(), &db).ok());
    std::unique_ptr<leveldb::DB> owned(db);
    REQUIRE(db->Put(leveldb::WriteOptions(), "upload/" + id, rec.dump()).ok());
  }
  {
    std::ofstream part(s.data / "parts" / (id + ".part"), std::ios::binary);
    part << "x";
  }
  const auto start = std::chrono::steady_clock::now();
  s.server->restart();
  const auto took = std::chrono::steady_clock::now() - start;
  WARN("restart with the record took "
       << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  CHECK(took < 3s);
  CHECK(entries(s.root) == 0);
  CHECK(s.curl({"-I", s.url("/uploads/" + id)}).status() == 404);
  CHECK_FALSE(fs::exists(s.data / "parts" / (id + ".part")));
}
