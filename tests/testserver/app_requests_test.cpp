// Downloads (validators, ranges, If-Range, 416, Repr-Digest) and bad input (path traversal,
// symlink escapes, broken Upload-Offset, missing media type, limits, completed uploads,
// unsupported interop versions) against the real xfer-testserver with curl.
#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include "tests/testserver/app_fixture.h"

using namespace std::chrono_literals;
using namespace xts_app_test;

namespace {

std::string sha256_base64(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  unsigned char b64[128];
  const int len = EVP_EncodeBlock(b64, md, static_cast<int>(n));
  return std::string(reinterpret_cast<char*>(b64), static_cast<std::size_t>(len));
}

struct DownloadServer : AppServer {
  std::string content;
  DownloadServer() {
    xfer::test::write_pattern_file(root / "d.bin", 777'777, 5);
    content = xts_test::read_all((root / "d.bin").string());
  }
};

// An incomplete upload (interop `version`) with `n` bytes; returns /uploads/<id>.
std::string started_upload(AppServer& s, int version, std::size_t n, const std::string& limit = {}) {
  auto a = creation_headers(version, false);
  if (!limit.empty()) a.insert(a.end(), {"-H", "Xfer-Upload-Limit: " + limit});
  a.insert(a.end(), {"--data-binary", std::string(n, 'a'), s.url("/uploads")});
  const auto r = s.curl(a);
  REQUIRE(r.status() == 201);
  return xts_test::path_of_location(*r.final_response().header("location"));
}

}  // namespace

TEST_CASE("downloads: validators, single ranges, 416, several ranges", "[testserver][download]") {
  DownloadServer s;
  const auto full = s.curl({s.url("/files/d.bin")});
  REQUIRE(full.status() == 200);
  CHECK((full.body == s.content));
  const auto& h = full.final_response();
  REQUIRE(h.header("etag"));
  CHECK(h.header("etag")->front() == '"');  // strong
  CHECK(h.header("last-modified"));
  CHECK(h.header("accept-ranges") == "bytes");

  const auto mid = s.curl({"-r", "1000-1999", s.url("/files/d.bin")});
  CHECK(mid.status() == 206);
  CHECK(mid.final_response().header("content-range") == "bytes 1000-1999/777777");
  CHECK((mid.body == s.content.substr(1000, 1000)));
  const auto tail = s.curl({"-r", "-100", s.url("/files/d.bin")});
  CHECK(tail.status() == 206);
  CHECK((tail.body == s.content.substr(777'677)));
  const auto open = s.curl({"-r", "777000-", s.url("/files/d.bin")});
  CHECK((open.body == s.content.substr(777'000)));

  const auto bad = s.curl({"-r", "800000-", s.url("/files/d.bin")});
  CHECK(bad.status() == 416);
  CHECK(bad.final_response().header("content-range") == "bytes */777777");

  const auto multi = s.curl({"-r", "0-9,20-29", s.url("/files/d.bin")});
  CHECK(multi.status() == 200);  // several ranges: the whole representation
  CHECK((multi.body == s.content));

  CHECK(s.curl({s.url("/files/nope.bin")}).status() == 404);
}

TEST_CASE("downloads: If-Range with ETag and date", "[testserver][download]") {
  DownloadServer s;
  const auto head = s.curl({"-I", s.url("/files/d.bin")});
  const auto etag = *head.final_response().header("etag");
  const auto date = *head.final_response().header("last-modified");
  const auto same = s.curl({"-r", "10-19", "-H", "If-Range: " + etag, s.url("/files/d.bin")});
  CHECK(same.status() == 206);
  const auto other = s.curl({"-r", "10-19", "-H", "If-Range: \"something-else\"", s.url("/files/d.bin")});
  CHECK(other.status() == 200);
  CHECK((other.body == s.content));
  const auto weak = s.curl({"-r", "10-19", "-H", "If-Range: W/" + etag, s.url("/files/d.bin")});
  CHECK(weak.status() == 200);
  const auto by_date = s.curl({"-r", "10-19", "-H", "If-Range: " + date, s.url("/files/d.bin")});
  CHECK(by_date.status() == 206);
  const auto old_date = s.curl({"-r", "10-19", "-H", "If-Range: Mon, 01 Jan 2001 00:00:00 GMT", s.url("/files/d.bin")});
  CHECK(old_date.status() == 200);
}

TEST_CASE("downloads: Repr-Digest on Want-Repr-Digest", "[testserver][download]") {
  DownloadServer s;
  CHECK(!s.curl({"-I", s.url("/files/d.bin")}).final_response().header("repr-digest"));
  const auto r = s.curl({"-H", "Want-Repr-Digest: sha-256=10", s.url("/files/d.bin")});
  CHECK(r.final_response().header("repr-digest") == "sha-256=:" + sha256_base64(s.content) + ":");
  // Cached per version: a ranged request carries the digest of the whole representation.
  const auto ranged = s.curl({"-r", "0-9", "-H", "Want-Repr-Digest: sha-256=10", s.url("/files/d.bin")});
  CHECK(ranged.final_response().header("repr-digest") == "sha-256=:" + sha256_base64(s.content) + ":");
}

TEST_CASE("bad input: path traversal, NUL, symlink escapes", "[testserver][safety]") {
  DownloadServer s;
  {
    std::ofstream secret(s.dir / "secret.txt");
    secret << "outside the root";
  }
  std::filesystem::create_symlink(s.dir / "secret.txt", s.root / "escape.txt");
  std::filesystem::create_directory_symlink(s.dir.path(), s.root / "escape-dir");
  std::filesystem::create_symlink(s.root / "d.bin", s.root / "inside.bin");

  const auto is_rejected = [](const xts_test::CurlResult& r) {
    return (r.status() == 400 || r.status() == 404) && r.body.find("outside the root") == std::string::npos;
  };
  CHECK(is_rejected(s.curl({"--path-as-is", s.url("/files/../secret.txt")})));
  CHECK(s.curl({"--path-as-is", s.url("/files/../secret.txt")}).status() == 400);
  CHECK(is_rejected(s.curl({s.url("/files/%2e%2e/secret.txt")})));
  CHECK(is_rejected(s.curl({s.url("/files/a%00b")})));
  CHECK(s.curl({s.url("/files/escape.txt")}).status() == 404);
  CHECK(s.curl({s.url("/files/escape-dir/secret.txt")}).status() == 404);
  CHECK(s.curl({s.url("/files/inside.bin")}).status() == 200);  // a symlink inside the root is fine

  // Uploads cannot escape either.
  CHECK(s.curl({"--path-as-is", "-X", "PUT", "-H", "Upload-Complete: ?1", "--data-binary", "x",
                s.url("/files/../evil.txt")}).status() == 400);
  const auto through_link = s.curl({"-X", "PUT", "-H", "Upload-Complete: ?1", "--data-binary", "x",
                                    s.url("/files/escape-dir/evil.txt")});
  CHECK(!std::filesystem::exists(s.dir / "evil.txt"));
  (void)through_link;
}

TEST_CASE("bad input: Upload-Offset negative, overflowing, garbage, missing", "[testserver][safety]") {
  AppServer s;
  const auto loc = started_upload(s, 9, 10);
  for (const std::string bad : {"-1", "99999999999999999999", "abc", "1.5", "", "10, 11"}) {
    INFO("Upload-Offset: " << bad);
    const auto r = s.curl({"-X", "PATCH", "-H", "Upload-Draft-Interop-Version: 9", "-H", "Upload-Complete: ?0", "-H",
                           "Content-Type: application/partial-upload", "-H", "Upload-Offset: " + bad, "--data-binary",
                           "zz", s.url(loc)});
    CHECK(r.status() == 400);
  }
  const auto head = s.curl({"-I", "-H", "Upload-Draft-Interop-Version: 9", s.url(loc)});
  CHECK(head.final_response().header("upload-offset") == "10");  // nothing was appended
  const auto mismatch = s.curl({"-X", "PATCH", "-H", "Upload-Draft-Interop-Version: 9", "-H", "Upload-Complete: ?0",
                                "-H", "Content-Type: application/partial-upload", "-H", "Upload-Offset: 5",
                                "--data-binary", "zz", s.url(loc)});
  CHECK(mismatch.status() == 409);
  CHECK(mismatch.final_response().header("upload-offset") == "10");
  CHECK(mismatch.final_response().header("upload-complete") == "?0");
  CHECK(mismatch.body.find("mismatching-upload-offset") != std::string::npos);
  CHECK(mismatch.body.find("\"expected-offset\":10") != std::string::npos);
}

TEST_CASE("bad input: PATCH without application/partial-upload (interop >= 6)", "[testserver][safety]") {
  AppServer s;
  for (int v : {6, 7, 8, 9}) {
    const auto loc = started_upload(s, v, 10);
    const auto r = s.curl({"-X", "PATCH", "-H", "Upload-Draft-Interop-Version: " + std::to_string(v), "-H",
                           "Upload-Complete: ?1", "-H", "Upload-Offset: 10", "--data-binary", "zz", s.url(loc)});
    CHECK(r.status() == 415);
  }
  // Before 6 the media type was not required.
  const auto loc5 = started_upload(s, 5, 10);
  const auto ok = s.curl({"-X", "PATCH", "-H", "Upload-Draft-Interop-Version: 5", "-H", "Upload-Complete: ?1", "-H",
                          "Upload-Offset: 10", "--data-binary", "zz", s.url(loc5)});
  CHECK(ok.status() == 201);
}

TEST_CASE("bad input: appends past max-size and max-append-size get 413 with Upload-Limit", "[testserver][safety]") {
  AppServer s;
  const auto loc = started_upload(s, 7, 1000, "max-size=5000, max-append-size=3000");
  const auto patch = [&](std::size_t n, bool complete) {
    auto a = append_headers(7, 1000, complete);
    a.insert(a.end(), {"--data-binary", std::string(n, 'b'), s.url(loc)});
    return s.curl(a);
  };
  const auto too_big = patch(4500, true);  // 1000 + 4500 > max-size
  CHECK(too_big.status() == 413);
  CHECK(too_big.final_response().header("upload-limit").value_or("").find("max-size=5000") != std::string::npos);
  CHECK(patch(3500, false).status() == 413);  // > max-append-size
  const auto head = s.curl({"-I", "-H", "Upload-Draft-Interop-Version: 7", s.url(loc)});
  CHECK(head.final_response().header("upload-offset") == "1000");
  CHECK(patch(2000, false).status() == 204);
  // Creation beyond max-size is refused before the body is read.
  const auto big = s.curl({"-H", "Upload-Draft-Interop-Version: 7", "-H", "Upload-Complete: ?1", "-H",
                           "Xfer-Upload-Limit: max-size=100", "--data-binary", std::string(200, 'c'), s.url("/uploads")});
  CHECK(big.status() == 413);
  CHECK(big.final_response().header("upload-limit"));
}

TEST_CASE("bad input: appends to a completed upload", "[testserver][safety]") {
  AppServer s;
  for (int v : {3, 6, 8, 9}) {
    INFO("version " << v);
    auto c = creation_headers(v, true);
    c.insert(c.end(), {"--data-binary", "hello", s.url("/uploads")});
    const auto r = s.curl(c);
    REQUIRE(r.status() == 201);
    const auto loc = xts_test::path_of_location(*r.final_response().header("location"));
    auto a = append_headers(v, 5, true);
    a.insert(a.end(), {"--data-binary", "more", s.url(loc)});
    const auto again = s.curl(a);
    CHECK(again.status() == 400);
    if (v >= 6 && v <= 8) CHECK(again.body.find("#completed-upload") != std::string::npos);
    if (v == 9) CHECK(again.final_response().header("upload-complete") == "?0");
    CHECK(xts_test::read_all((s.root / "uploads" / loc.substr(9)).string()) == "hello");
    if (v == 9) {  // a valid empty completing append replays the final response
      auto e = append_headers(9, 5, true);
      e.insert(e.end(), {"--data-binary", "", s.url(loc)});
      const auto replay = s.curl(e);
      CHECK(replay.status() == 201);
      CHECK(replay.final_response().header("upload-complete") == "?1");
    }
  }
}

TEST_CASE("bad input: unsupported interop versions, inconsistent lengths, HEAD with state fields",
          "[testserver][safety]") {
  AppServer s;
  for (const std::string v : {"2", "11", "x"}) {
    CHECK(s.curl({"-H", "Upload-Draft-Interop-Version: " + v, "-H", "Upload-Complete: ?1", "--data-binary", "x",
                  s.url("/uploads")}).status() == 400);
  }
  const auto inconsistent = s.curl({"-H", "Upload-Draft-Interop-Version: 7", "-H", "Upload-Complete: ?1", "-H",
                                    "Upload-Length: 10", "--data-binary", "12345", s.url("/uploads")});
  CHECK(inconsistent.status() == 400);
  CHECK(inconsistent.body.find("#inconsistent-upload-length") != std::string::npos);
  const auto loc = started_upload(s, 6, 10);
  CHECK(s.curl({"-I", "-H", "Upload-Draft-Interop-Version: 6", "-H", "Upload-Offset: 10", s.url(loc)}).status() == 400);
  CHECK(s.curl({"-I", "-H", "Upload-Draft-Interop-Version: 6", s.url("/uploads/00000000000000000000000000000000")})
            .status() == 404);
}
