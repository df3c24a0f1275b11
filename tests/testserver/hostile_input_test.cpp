// Every byte value in request paths and header values, percent-encoded and raw, over HTTP/1.1
// and HTTP/2: the server answers each request (a status or, for what the parser refuses, a
// reset stream or closed connection) and never goes down. Paths must be UTF-8 (invalid and
// overlong sequences get 400, also on resumable creation — once a crash on JSON encoding),
// and the URLs the server hands out re-encode the path bytes so they lead back to the file.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/testserver/app_fixture.h"
#include "tests/testserver/h1_raw_client.h"
#include "tests/testserver/h2_raw_client.h"

using namespace std::chrono_literals;
using namespace xts_app_test;
namespace h2 = xts_test::h2;

namespace {

std::string hex2(unsigned b) {
  char buf[4];
  std::snprintf(buf, sizeof buf, "%02X", b);
  return buf;
}

// What the server must make of the decoded byte b inside a path segment.
bool path_byte_allowed(unsigned b) { return b >= 0x20 && b < 0x7f && b != '\\'; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// curl for each URL; "-w" prints one line per URL. HTTP/1.1 runs them all in one process (one
// kept-alive connection); h2c needs a process each, since curl 7.88 cannot reuse an h2c
// connection after a stream that ended early (curl #10634: "Error in the HTTP2 framing layer").
std::vector<std::string> curl_many(AppServer& s, std::vector<std::string> args, const std::vector<std::string>& urls,
                                   const std::string& write_out) {
  std::vector<std::string> argv{"curl", "-sS", "--max-time", "120", "--path-as-is", "-H", "Expect:", "-w", write_out};
  argv.insert(argv.end(), args.begin(), args.end());
  const bool h2c = std::find(args.begin(), args.end(), "--http2-prior-knowledge") != args.end();
  if (!h2c) {
    for (const auto& u : urls) argv.insert(argv.end(), {"-o", "/dev/null", s.url(u)});
    return lines_of(xts_test::run_process(argv, 150s).out);
  }
  std::vector<std::string> out;
  for (const auto& u : urls) {
    auto one = argv;
    one.insert(one.end(), {"-o", "/dev/null", s.url(u)});
    const auto lines = lines_of(xts_test::run_process(one, 30s).out);
    out.push_back(lines.empty() ? std::string() : lines.front());
  }
  return out;
}

bool serves(AppServer& s) {
  const auto r = s.curl({s.url("/files/ok.txt")});
  return r.status() == 200 && r.body == "ok";
}

struct H2Outcome {
  std::size_t answered = 0;  // streams that ended: final response, or RST_STREAM
  bool connection_ended = false;
};

// Sends the requests (HEADERS frames for streams 1, 3, ...) in batches the server's stream
// limit allows, and reads until each stream ended; returns DATA to the windows as it comes.
H2Outcome h2_sweep(std::uint16_t port, const std::vector<std::string (*)(std::uint32_t, unsigned)>& makers) {
  H2Outcome o;
  xts_test::H2RawClient c(port);
  if (!c.connected() || !c.send(h2::kPreface + h2::settings({}))) return o;
  std::uint32_t next_id = 1;
  for (const auto make : makers) {
    for (unsigned first = 0; first < 256; first += 50) {
      std::set<std::uint32_t> open;
      std::string batch;
      for (unsigned b = first; b < std::min(first + 50, 256u); ++b) {
        batch += make(next_id, b);
        open.insert(next_id);
        next_id += 2;
      }
      if (!c.send(batch)) {
        o.connection_ended = true;
        return o;
      }
      const auto deadline = std::chrono::steady_clock::now() + 30s;
      while (!open.empty() && std::chrono::steady_clock::now() < deadline) {
        auto f = c.next_frame(1s);
        if (!f) {
          if (c.closed()) {
            o.connection_ended = true;
            return o;
          }
          continue;
        }
        if (f->type == h2::kSettings && !(f->flags & h2::kAck)) c.send(h2::settings_ack());
        if (f->type == h2::kGoaway) {
          o.connection_ended = true;
          return o;
        }
        if (f->type == h2::kData && !f->payload.empty()) {
          const auto n = static_cast<std::uint32_t>(f->payload.size());
          c.send(h2::window_update(0, n) + h2::window_update(f->stream, n));
        }
        const bool ended = f->type == h2::kRstStream ||
                           ((f->type == h2::kHeaders || f->type == h2::kData) && (f->flags & h2::kEndStream));
        if (ended && open.erase(f->stream) > 0) ++o.answered;
      }
      if (!open.empty()) return o;  // some stream never got an answer
    }
  }
  return o;
}

std::string byte_value(unsigned b) { return std::string("a") + static_cast<char>(b) + "b"; }

}  // namespace

TEST_CASE("every byte value percent-encoded in an upload path, HTTP/1.1 and h2c: 201 or 400, URLs round-trip",
          "[testserver][safety][bytes]") {
  AppServer s;
  {
    std::ofstream ok(s.root / "ok.txt");
    ok << "ok";
  }
  for (const auto& [proto, flags] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"h1", {"--http1.1"}}, {"h2c", {"--http2-prior-knowledge"}}}) {
    INFO(proto);
    std::vector<std::string> urls;
    for (unsigned b = 0; b < 256; ++b) urls.push_back("/files/" + proto + "/p%" + hex2(b) + "q");
    // Empty bodies: curl 7.88 over h2 reports an error (92) for a response that came before
    // the request body was sent, followed by RST_STREAM(NO_ERROR), which RFC 9113 §8.1 allows.
    auto args = flags;
    args.insert(args.end(), {"-X", "PUT", "-H", "Upload-Complete: ?1"});
    const auto out = curl_many(s, args, urls, "%{http_code} %header{content-location}\\n");
    REQUIRE(out.size() == 256);
    std::vector<std::string> locations;
    for (unsigned b = 0; b < 256; ++b) {
      INFO("byte 0x" << hex2(b) << ": " << out[b]);
      if (path_byte_allowed(b)) {
        REQUIRE(out[b].rfind("201 /files/", 0) == 0);
        locations.push_back(out[b].substr(4));
        const std::string name = std::string("p") + static_cast<char>(b) + "q";
        CHECK(std::filesystem::exists(s.root / proto / name));
      } else {
        CHECK(out[b].rfind("400", 0) == 0);  // control characters, '\', not UTF-8 on its own
      }
    }
    // Each Content-Location (re-encoded: "%25" stays "%25", "%3F" does not become a query)
    // fetches the byte that was stored there.
    const auto got = curl_many(s, flags, locations, "%{http_code} %{size_download}\\n");
    REQUIRE(got.size() == locations.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      INFO(locations[i]);
      CHECK(got[i] == "200 0");
    }
    CHECK(serves(s));
  }
}

TEST_CASE("invalid and overlong UTF-8 in a path gets 400 on every route and never crashes the server",
          "[testserver][safety][bytes]") {
  AppServer s({"--control"});
  {
    std::ofstream ok(s.root / "ok.txt");
    ok << "ok";
  }
  const std::vector<std::string> bad = {"%FF", "%C0%AF", "%E0%80%AF", "%ED%A0%80", "%F4%90%80%80",
                                        "%F8%88%80%80%80", "%C3", "%80", "a%C3%28b"};
  for (const auto& flags : std::vector<std::vector<std::string>>{{"--http1.1"}, {"--http2-prior-knowledge"}}) {
    for (const auto& seq : bad) {
      INFO(flags[0] << " " << seq);
      const auto at = s.url("/files/bad" + seq);
      auto run = [&](std::vector<std::string> a) {
        a.insert(a.begin(), flags.begin(), flags.end());
        a.push_back(at);
        return s.curl(a);
      };
      // Bodies empty for the reason given above.
      CHECK(run({"-X", "PUT", "-H", "Upload-Complete: ?1"}).status() == 400);
      CHECK(run({"-X", "POST", "-H", "Upload-Complete: ?1"}).status() == 400);
      // Resumable creation (the 104 path) and a plain PUT.
      CHECK(run({"-X", "PUT", "-H", "Upload-Draft-Interop-Version: 6", "-H", "Upload-Complete: ?0"}).status() == 400);
      CHECK(run({"-X", "PUT"}).status() == 400);
      CHECK(run({}).status() == 400);
      // A fault fires before routing and is logged with the path: the log stays JSON.
      auto faulted = flags;
      faulted.insert(faulted.end(), {"-H", "Xfer-Fault: status=503", at});
      CHECK(s.curl(faulted).status() == 503);
    }
  }
  const auto log = s.curl({s.url("/_control/log")});
  REQUIRE(log.status() == 200);
  const auto parsed = nlohmann::json::parse(log.body, nullptr, false);
  REQUIRE_FALSE(parsed.is_discarded());
  CHECK(parsed.size() == 2 * bad.size());

  // Well-formed UTF-8 is a name like any other, and comes back percent-encoded.
  const auto e = s.curl({"-X", "PUT", "-H", "Upload-Complete: ?1", "--data-binary", "x", s.url("/files/caf%C3%A9")});
  CHECK(e.status() == 201);
  CHECK(e.final_response().header("content-location") == "/files/caf%C3%A9");
  CHECK(std::filesystem::exists(s.root / "caf\xc3\xa9"));
  CHECK(serves(s));
}

TEST_CASE("raw bytes in request targets and header values, HTTP/1.1 and h2: every request is answered",
          "[testserver][safety][bytes]") {
  AppServer s;
  {
    std::ofstream ok(s.root / "ok.txt");
    ok << "ok";
  }
  const auto port = s.server->plain_port();

  SECTION("HTTP/1.1") {
    // Each byte raw in the target, then in each header value the server reads. A request the
    // parser refuses gets 400 (or the connection closes: CR and LF end the line).
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"POST /uploads", "Host"},
        {"POST /uploads", "Upload-Draft-Interop-Version"},
        {"POST /uploads", "Upload-Length"},
        {"POST /uploads", "Upload-Offset"},
        {"POST /uploads", "Upload-Complete"},
        {"POST /uploads", "Xfer-Upload-Limit"},
        {"GET /files/ok.txt", "Xfer-Fault"},
        {"GET /files/ok.txt", "Range"},
        {"GET /files/ok.txt", "If-Range"},
        {"GET /files/ok.txt", "Want-Repr-Digest"},
        {"GET /files/ok.txt", "Content-Type"},
        {"GET /files/ok.txt", "Authorization"},
    };
    std::size_t answered = 0, total = 0;
    for (unsigned b = 0; b < 256; ++b) {
      const std::string c(1, static_cast<char>(b));
      const auto target = xts_test::raw_http1(
          port, "PUT /files/raw/p" + c + "q HTTP/1.1\r\nHost: 127.0.0.1\r\nUpload-Complete: ?1\r\n"
                                         "Content-Length: 1\r\nConnection: close\r\n\r\nx");
      ++total;
      if (target.status != 0 || target.response.empty()) ++answered;  // a status, or closed without one
      for (const auto& [line, name] : cases) {
        std::string req = line + " HTTP/1.1\r\n";
        if (name != "Host") req += "Host: 127.0.0.1\r\n";
        if (name != "Upload-Complete" && line.starts_with("POST")) req += "Upload-Complete: ?0\r\n";
        req += name + ": a" + c + "b\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        const auto r = xts_test::raw_http1(port, req);
        ++total;
        INFO(name << " byte 0x" << hex2(b) << " -> " << r.status);
        CHECK(r.connected);
        if (r.status != 0 || r.response.empty()) ++answered;
        if (b == 0x41) CHECK(r.status < 500);  // a plain letter is ordinary input
      }
      if (b % 64 == 63) REQUIRE(s.server->running());
    }
    CHECK(answered == total);
  }

  SECTION("h2c") {
    using Maker = std::string (*)(std::uint32_t, unsigned);
    const std::vector<Maker> makers = {
        [](std::uint32_t id, unsigned b) {
          return h2::request(id, "PUT", "/files/raw/p" + std::string(1, static_cast<char>(b)) + "q",
                             {{"upload-complete", "?1"}, {"content-length", "0"}});
        },
        [](std::uint32_t id, unsigned b) {
          return h2::request(id, "POST", "/uploads", {{"upload-complete", "?0"}}, true, byte_value(b));
        },
        [](std::uint32_t id, unsigned b) {
          return h2::request(id, "POST", "/uploads", {{"upload-complete", "?0"}, {"upload-length", byte_value(b)}});
        },
        [](std::uint32_t id, unsigned b) {
          return h2::request(id, "POST", "/uploads",
                             {{"upload-complete", "?0"}, {"upload-draft-interop-version", byte_value(b)}});
        },
        [](std::uint32_t id, unsigned b) {
          return h2::request(id, "POST", "/uploads", {{"upload-complete", byte_value(b)}});
        },
        [](std::uint32_t id, unsigned b) {
          return h2::request(id, "POST", "/uploads", {{"upload-complete", "?0"}, {"xfer-upload-limit", byte_value(b)}});
        },
        [](std::uint32_t id, unsigned b) { return h2::request(id, "GET", "/files/ok.txt", {{"xfer-fault", byte_value(b)}}); },
        [](std::uint32_t id, unsigned b) { return h2::request(id, "GET", "/files/ok.txt", {{"range", byte_value(b)}}); },
        [](std::uint32_t id, unsigned b) { return h2::request(id, "GET", "/files/ok.txt", {{"if-range", byte_value(b)}}); },
        [](std::uint32_t id, unsigned b) {
          return h2::request(id, "GET", "/files/ok.txt", {{"want-repr-digest", byte_value(b)}});
        },
    };
    // One connection per kind, so a connection-level error in one does not hide the others.
    for (std::size_t i = 0; i < makers.size(); ++i) {
      INFO("request kind " << i);
      const auto o = h2_sweep(port, {makers[i]});
      CHECK_FALSE(o.connection_ended);
      CHECK(o.answered == 256);
      REQUIRE(s.server->running());
    }
  }
  CHECK(s.server->running());
  CHECK(serves(s));
}
