// One test per fault spec of xfer-testserver (docs/testserver.md), each proving the fault
// happens as documented, with curl as the client; plus chance/seed reproducibility, the three
// ways to set faults, and the fault log.
#include <catch2/catch.hpp>

#include <map>
#include <thread>

#include "tests/testserver/app_fixture.h"

using namespace std::chrono_literals;
using namespace xts_app_test;

namespace {

constexpr std::uint64_t kFile = 1'000'000;

struct FaultServer : AppServer {
  std::filesystem::path file = root / "f.bin";
  std::string content;
  explicit FaultServer(std::vector<std::string> args = {"--control"}) : AppServer(std::move(args)) {
    xfer::test::write_pattern_file(file, kFile, 3);
    content = xts_test::read_all(file.string());
  }
  std::string log_json() { return curl({url("/_control/log")}).body; }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Creates an upload cut by `fault` after `cut` bytes; returns its path (/uploads/<id>).
std::string interrupted_upload(AppServer& s, const std::filesystem::path& src, const std::string& fault) {
  const auto r = s.curl({"-H", "Upload-Draft-Interop-Version: 9", "-H", "Upload-Complete: ?1", "-H",
                         "Xfer-Fault: " + fault, "--data-binary", "@" + src.string(), s.url("/uploads")});
  const auto* interim = r.interim(104);
  REQUIRE(interim != nullptr);
  return xts_test::path_of_location(*interim->header("location"));
}

}  // namespace

TEST_CASE("fault reset-after: download ends with a TCP reset after exactly N bytes", "[testserver][fault]") {
  FaultServer s;
  const auto r = s.curl({"-H", "Xfer-Fault: reset-after=100000", s.url("/files/f.bin")});
  CHECK(r.exit_code == 56);  // curl: recv failure (connection reset)
  CHECK(r.body.size() == 100000);
  CHECK((r.body == s.content.substr(0, 100000)));
  CHECK(s.log_json().find("\"fault\":\"reset-after\"") != std::string::npos);
  CHECK(s.server_log().find("\"fault\":\"reset-after\"") != std::string::npos);  // JSON line on stderr
}

TEST_CASE("fault reset-after on h2: RST_STREAM after N bytes", "[testserver][fault]") {
  FaultServer s;
  const auto r = s.curl({"--http2-prior-knowledge", "-H", "Xfer-Fault: reset-after=100000", s.url("/files/f.bin")});
  CHECK(r.exit_code == 92);  // curl: HTTP/2 stream was not closed cleanly
  // The decorator hands the transport exactly 100000 bytes; nghttp2 drops DATA still queued
  // when RST_STREAM is submitted, so the peer may see a little less (never more).
  CHECK(r.body.size() <= 100000);
  CHECK(r.body.size() > 0);
  CHECK((r.body == s.content.substr(0, r.body.size())));
}

TEST_CASE("fault close-after: download ends with a clean close after exactly N bytes", "[testserver][fault]") {
  FaultServer s;
  const auto r = s.curl({"-H", "Xfer-Fault: close-after=65536", s.url("/files/f.bin")});
  CHECK(r.exit_code == 18);  // curl: partial file (FIN before Content-Length was reached)
  CHECK((r.body == s.content.substr(0, 65536)));
  CHECK(s.log_json().find("\"fault\":\"close-after\"") != std::string::npos);
}

TEST_CASE("fault reset-after on an upload: exactly N bytes are stored and acknowledged", "[testserver][fault]") {
  FaultServer s;
  const auto loc = interrupted_upload(s, s.file, "reset-after=123457");
  const auto head = s.curl({"-I", "-H", "Upload-Draft-Interop-Version: 9", s.url(loc)});
  CHECK(head.final_response().header("upload-offset") == "123457");
}

TEST_CASE("fault stall: the transfer pauses for the given time after N bytes", "[testserver][fault]") {
  FaultServer s;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = s.curl({"-H", "Xfer-Fault: stall=500000:1500", s.url("/files/f.bin")});
  const auto took = seconds_since(t0);
  CHECK(r.status() == 200);
  CHECK((r.body == s.content));
  CHECK(took >= 1.4);
  CHECK(took < 15);
  CHECK(s.log_json().find("\"fault\":\"stall\"") != std::string::npos);

  // On an upload, the request body stops being read (flow control reaches the client).
  const auto t1 = std::chrono::steady_clock::now();
  const auto up = s.curl({"-H", "Upload-Complete: ?1", "-H", "Xfer-Fault: stall=1000:1200", "--data-binary",
                          "@" + s.file.string(), s.url("/uploads")});
  CHECK(up.status() == 201);
  CHECK(seconds_since(t1) >= 1.1);
}

TEST_CASE("fault status: answers with the code, Retry-After, and only `times` times", "[testserver][fault]") {
  FaultServer s;
  const std::vector<std::string> a{"-H", "Xfer-Fault: status=503,retry-after=7,times=2", s.url("/files/f.bin")};
  const auto r1 = s.curl(a);
  const auto r2 = s.curl(a);
  const auto r3 = s.curl(a);
  CHECK(r1.status() == 503);
  CHECK(r1.final_response().header("retry-after") == "7");
  CHECK(r2.status() == 503);
  CHECK(r3.status() == 200);
  CHECK((r3.body == s.content));
  // Without times it never stops.
  for (int i = 0; i < 3; ++i) CHECK(s.curl({"-H", "Xfer-Fault: status=429", s.url("/files/f.bin")}).status() == 429);
}

TEST_CASE("fault throttle: the body moves at the given rate", "[testserver][fault]") {
  FaultServer s;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = s.curl({"-H", "Xfer-Fault: throttle=400000", s.url("/files/f.bin")});
  const auto took = seconds_since(t0);
  CHECK((r.body == s.content));
  CHECK(took >= 2.0);  // 1,000,000 bytes at 400,000 B/s = 2.5 s
  CHECK(took < 10);

  const auto t1 = std::chrono::steady_clock::now();
  const auto up = s.curl({"-H", "Upload-Complete: ?1", "-H", "Xfer-Fault: throttle=500000", "--data-binary",
                          "@" + s.file.string(), s.url("/uploads")});
  CHECK(up.status() == 201);
  CHECK(seconds_since(t1) >= 1.6);  // 2 s nominal
}

TEST_CASE("fault no-104: the creation goes without interim responses", "[testserver][fault]") {
  FaultServer s;
  const auto with = s.curl({"-H", "Upload-Draft-Interop-Version: 6", "-H", "Upload-Complete: ?1", "--data-binary",
                            "@" + s.file.string(), s.url("/uploads")});
  CHECK(with.status() == 201);
  CHECK(with.interim(104) != nullptr);
  const auto without = s.curl({"-H", "Upload-Draft-Interop-Version: 6", "-H", "Upload-Complete: ?1", "-H",
                               "Xfer-Fault: no-104", "--data-binary", "@" + s.file.string(), s.url("/uploads")});
  CHECK(without.status() == 201);
  CHECK(without.interim(104) == nullptr);
  CHECK(s.log_json().find("\"fault\":\"no-104\"") != std::string::npos);
}

TEST_CASE("fault lag-offset: HEAD acknowledges fewer bytes, and the upload resumes from there",
          "[testserver][fault]") {
  FaultServer s;
  const auto loc = interrupted_upload(s, s.file, "reset-after=600000");
  const auto head = s.curl({"-I", "-H", "Upload-Draft-Interop-Version: 9", "-H", "Xfer-Fault: lag-offset=4096", s.url(loc)});
  REQUIRE(head.final_response().header("upload-offset") == std::to_string(600000 - 4096));
  // Without the fault the same (lower) offset is reported: the server really dropped the tail.
  const auto again = s.curl({"-I", "-H", "Upload-Draft-Interop-Version: 9", s.url(loc)});
  CHECK(again.final_response().header("upload-offset") == std::to_string(600000 - 4096));
  const auto rest = slice_file(s.file, 600000 - 4096, kFile, s.dir / "rest.bin");
  auto a = append_headers(9, 600000 - 4096, true);
  a.insert(a.end(), {"--data-binary", "@" + rest, s.url(loc)});
  const auto done = s.curl(a);
  REQUIRE(done.status() == 201);
  CHECK(xfer::test::sha256_file(s.root / "uploads" / loc.substr(9)) == xfer::test::sha256_file(s.file));
  CHECK(s.log_json().find("\"fault\":\"lag-offset\"") != std::string::npos);
}

TEST_CASE("fault etag-change: validators change between requests, If-Range then fails", "[testserver][fault]") {
  FaultServer s;
  const auto plain1 = s.curl({"-I", s.url("/files/f.bin")});
  const auto plain2 = s.curl({"-I", s.url("/files/f.bin")});
  const auto etag = *plain1.final_response().header("etag");
  CHECK(plain2.final_response().header("etag") == etag);  // stable without the fault
  const auto c1 = s.curl({"-I", "-H", "Xfer-Fault: etag-change", s.url("/files/f.bin")});
  const auto c2 = s.curl({"-I", "-H", "Xfer-Fault: etag-change", s.url("/files/f.bin")});
  CHECK(c1.final_response().header("etag") != etag);
  CHECK(c2.final_response().header("etag") != c1.final_response().header("etag"));
  CHECK(c2.final_response().header("last-modified") != plain1.final_response().header("last-modified"));
  // A resumed download with the old validator gets the whole file again.
  const auto resumed = s.curl({"-H", "Xfer-Fault: etag-change", "-H", "Range: bytes=1000-", "-H", "If-Range: " + etag,
                               s.url("/files/f.bin")});
  CHECK(resumed.status() == 200);
  CHECK((resumed.body == s.content));
}

TEST_CASE("fault corrupt: exactly one byte at that file offset is flipped", "[testserver][fault]") {
  FaultServer s;
  const auto r = s.curl({"-H", "Xfer-Fault: corrupt=12345", s.url("/files/f.bin")});
  REQUIRE(r.body.size() == s.content.size());
  std::vector<std::size_t> diffs;
  for (std::size_t i = 0; i < r.body.size(); ++i) {
    if (r.body[i] != s.content[i]) diffs.push_back(i);
  }
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0] == 12345);
  CHECK(static_cast<unsigned char>(r.body[12345]) == (static_cast<unsigned char>(s.content[12345]) ^ 0xFF));
  // In a range, the offset is still a file offset.
  const auto ranged = s.curl({"-H", "Xfer-Fault: corrupt=12345", "-r", "12000-12999", s.url("/files/f.bin")});
  REQUIRE(ranged.body.size() == 1000);
  CHECK(ranged.body[345] != s.content[12345]);
  CHECK((ranged.body.substr(0, 345) == s.content.substr(12000, 345)));
  CHECK(s.log_json().find("\"fault\":\"corrupt\"") != std::string::npos);
}

TEST_CASE("fault crash-after: the process dies - after restart the upload resumes", "[testserver][fault]") {
  FaultServer s;
  const auto r = s.curl({"-H", "Upload-Draft-Interop-Version: 8", "-H", "Upload-Complete: ?1", "-H",
                         "Xfer-Fault: crash-after=300000", "--data-binary", "@" + s.file.string(), s.url("/uploads")});
  CHECK(r.exit_code != 0);
  REQUIRE(r.interim(104) != nullptr);
  const auto loc = xts_test::path_of_location(*r.interim(104)->header("location"));
  CHECK(wait_until([&] { return !s.server->running(); }, 5s));
  CHECK(s.server_log().find("\"fault\":\"crash-after\"") != std::string::npos);
  s.server->restart();
  const auto head = s.curl({"-I", "-H", "Upload-Draft-Interop-Version: 8", s.url(loc)});
  REQUIRE(head.status() == 204);
  const auto offset = std::stoull(*head.final_response().header("upload-offset"));
  CHECK(offset <= 300000);
  const auto rest = slice_file(s.file, offset, kFile, s.dir / "rest.bin");
  auto a = append_headers(8, offset, true);
  a.insert(a.end(), {"--data-binary", "@" + rest, s.url(loc)});
  REQUIRE(s.curl(a).status() == 201);
  CHECK(xfer::test::sha256_file(s.root / "uploads" / loc.substr(9)) == xfer::test::sha256_file(s.file));
}

TEST_CASE("chance= hits a fraction of requests, reproducibly with --fault-seed", "[testserver][fault]") {
  const auto pattern = [](const std::string& seed) {
    FaultServer s({"--fault-seed", seed});
    std::string p;
    for (int i = 0; i < 24; ++i) {
      const auto r = s.curl({"-I", "-H", "Xfer-Fault: status=503,chance=0.5", s.url("/files/f.bin")});
      p += r.status() == 503 ? 'x' : '.';
    }
    return p;
  };
  const auto a = pattern("42");
  const auto b = pattern("42");
  INFO(a << " / " << b);
  CHECK(a == b);
  CHECK(a.find('x') != std::string::npos);
  CHECK(a.find('.') != std::string::npos);
  FaultServer s;
  for (int i = 0; i < 5; ++i) {
    CHECK(s.curl({"-I", "-H", "Xfer-Fault: status=503,chance=0", s.url("/files/f.bin")}).status() == 200);
    CHECK(s.curl({"-I", "-H", "Xfer-Fault: status=503,chance=1", s.url("/files/f.bin")}).status() == 503);
  }
}

TEST_CASE("faults from --fault, ?fault= and /_control/faults - bad specs are rejected", "[testserver][fault]") {
  {
    FaultServer s({"--fault", "status=502,times=1"});
    CHECK(s.curl({s.url("/files/f.bin")}).status() == 502);
    CHECK(s.curl({s.url("/files/f.bin")}).status() == 200);
    CHECK(s.curl({s.url("/_control/log")}).status() == 404);  // no --control
  }
  FaultServer s;
  CHECK(s.curl({s.url("/files/f.bin?fault=status%3D418")}).status() == 418);
  CHECK(s.curl({"-H", "Xfer-Fault: explode=1", s.url("/files/f.bin")}).status() == 400);
  CHECK(s.curl({"-H", "Xfer-Fault: chance=2", s.url("/files/f.bin")}).status() == 400);
  CHECK(s.curl({"--data-binary", "nonsense", s.url("/_control/faults")}).status() == 400);
  CHECK(s.curl({"--data-binary", "status=429,retry-after=1", s.url("/_control/faults")}).status() == 200);
  CHECK(s.curl({s.url("/_control/faults")}).body == "status=429,retry-after=1\n");
  const auto hit = s.curl({s.url("/files/f.bin")});
  CHECK(hit.status() == 429);
  CHECK(hit.final_response().header("retry-after") == "1");
  CHECK(s.curl({"-X", "DELETE", s.url("/_control/faults")}).status() == 204);
  CHECK(s.curl({s.url("/files/f.bin")}).status() == 200);
  const auto log = s.log_json();
  CHECK(log.find("\"status\":418") != std::string::npos);
  CHECK(log.find("\"status\":429") != std::string::npos);
}
