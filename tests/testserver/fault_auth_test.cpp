// Who may inject faults per request. A fault can kill the server (crash-after) or hold its
// resources (stall, throttle), so with --auth-token (or --fault-token) a request that asks for
// one by Xfer-Fault or ?fault= needs the token; it is refused with 401 otherwise, before any
// fault is planned (its `times` counters stay untouched). Downloads without faults stay open.
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/testserver/app_fixture.h"

using namespace std::chrono_literals;
using namespace xts_app_test;

namespace {

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

}  // namespace

TEST_CASE("with --auth-token, anonymous requests cannot inject faults - the token holder can",
          "[testserver][fault][auth]") {
  AppServer s({"--auth-token", "s3cret", "--control"});
  write_file(s.root / "f.txt", "hello");
  const auto url = s.url("/files/f.txt");
  const std::string bearer = "Authorization: Bearer s3cret";

  for (const auto& proto : std::vector<std::string>{"--http1.1", "--http2-prior-knowledge"}) {
    INFO(proto);
    const auto crash = s.curl({proto, "-H", "Xfer-Fault: crash-after=0", url});
    CHECK(crash.status() == 401);
    CHECK(crash.body.find("fault-token-required") != std::string::npos);
    CHECK(s.server->running());
    CHECK(s.curl({proto, url + "?fault=crash-after%3D0"}).status() == 401);
    CHECK(s.curl({proto, "-H", "Xfer-Fault: stall=0:60000", url}).status() == 401);
    CHECK(s.curl({proto, "-H", "Xfer-Fault: throttle=1", url}).status() == 401);
    CHECK(s.curl({proto, "-H", "Authorization: Bearer wrong", "-H", "Xfer-Fault: status=503", url}).status() == 401);
    CHECK(s.server->running());
    CHECK(s.curl({proto, url}).status() == 200);  // plain downloads stay open
  }
  // Refused requests plan nothing: the `times` counter is still whole for the token holder.
  CHECK(s.curl({"-H", "Xfer-Fault: status=503,times=1", url}).status() == 401);
  CHECK(s.curl({"-H", bearer, "-H", "Xfer-Fault: status=503,times=1", url}).status() == 503);
  CHECK(s.curl({"-H", bearer, "-H", "Xfer-Fault: status=503,times=1", url}).status() == 200);
  CHECK(s.curl({"-H", bearer, url + "?fault=status%3D429"}).status() == 429);
  // Uploads carry the token anyway; their faults work as before.
  const auto cut = s.curl({"-H", bearer, "-H", "Upload-Complete: ?1", "-H", "Xfer-Fault: reset-after=10",
                           "--data-binary", std::string(100, 'a'), s.url("/uploads")});
  CHECK(cut.exit_code != 0);
  const auto log = s.curl({"-H", bearer, s.url("/_control/log")});
  CHECK(log.body.find("\"fault\":\"reset-after\"") != std::string::npos);
  CHECK(log.body.find("crash-after") == std::string::npos);
  // With the token, crash-after really crashes: the check is the only thing in its way.
  s.curl({"-H", bearer, "-H", "Xfer-Fault: crash-after=0", url}, 10s);
  CHECK(wait_until([&] { return !s.server->running(); }, 5s));
}

TEST_CASE("fault token: --fault-token (Xfer-Fault-Token or Bearer), not the auth token, opens request faults",
          "[testserver][fault][auth]") {
  AppServer s({"--auth-token", "up", "--fault-token", "boom", "--control"});
  write_file(s.root / "f.txt", "hello");
  const auto url = s.url("/files/f.txt");
  CHECK(s.curl({"-H", "Xfer-Fault: status=503", url}).status() == 401);
  CHECK(s.curl({"-H", "Authorization: Bearer up", "-H", "Xfer-Fault: status=503", url}).status() == 401);
  CHECK(s.curl({"-H", "Xfer-Fault-Token: boom", "-H", "Xfer-Fault: status=503", url}).status() == 503);
  CHECK(s.curl({"-H", "Authorization: Bearer boom", "-H", "Xfer-Fault: status=503", url}).status() == 503);
  CHECK(s.curl({"-H", "Xfer-Fault-Token: nope", url + "?fault=status%3D503"}).status() == 401);
  // An upload with a fault carries both: the auth token for the upload, the fault token for the fault.
  const auto upload = s.curl({"-H", "Authorization: Bearer up", "-H", "Xfer-Fault-Token: boom", "-H",
                              "Xfer-Fault: status=507", "-H", "Upload-Complete: ?1", "--data-binary", "x",
                              s.url("/uploads")});
  CHECK(upload.status() == 507);
  CHECK(s.curl({"-H", "Authorization: Bearer up", "-H", "Upload-Complete: ?1", "--data-binary", "x",
                s.url("/uploads")}).status() == 201);
  // /_control/ sets faults for everyone: either token opens it, nothing else does.
  CHECK(s.curl({s.url("/_control/faults")}).status() == 401);
  CHECK(s.curl({"-H", "Xfer-Fault-Token: boom", s.url("/_control/faults")}).status() == 200);
  CHECK(s.curl({"-H", "Authorization: Bearer up", s.url("/_control/faults")}).status() == 200);
}

TEST_CASE("fault token: --fault-token alone guards faults and control while uploads stay open", "[testserver][fault][auth]") {
  AppServer s({"--fault-token", "boom", "--control"});
  write_file(s.root / "f.txt", "hello");
  const auto url = s.url("/files/f.txt");
  CHECK(s.curl({"-H", "Xfer-Fault: crash-after=0", url}).status() == 401);
  CHECK(s.curl({"-X", "POST", "--data-binary", "crash-after=0", s.url("/_control/faults")}).status() == 401);
  CHECK(s.server->running());
  CHECK(s.curl({"-H", "Xfer-Fault-Token: boom", "-H", "Xfer-Fault: status=503", url}).status() == 503);
  CHECK(s.curl({"-H", "Upload-Complete: ?1", "--data-binary", "x", s.url("/uploads")}).status() == 201);
}
