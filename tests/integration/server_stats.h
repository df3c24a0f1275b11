// What xfer-testserver says about itself, read over cleartext HTTP/1.1 with `xfer get` (TCP is
// never impaired): GET /_control/stats (requests by protocol, UDP impairment counters) and
// GET /_control/log (the faults it injected). The server must run with --control.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>

#include "tests/integration/engine_harness.h"

namespace xfer::test {

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The body of GET /_control/<what> ("stats", "log").
inline std::string control_json(const TestServerProcess& server, const TempDir& dir, const std::string& what) {
  static int n = 0;
  const auto out = dir / (what + "-" + std::to_string(++n) + ".json");
  auto r = run_cli({"get", server.http_origin() + "/_control/" + what, "-o", out.string(), "--journal",
                    (dir / ("control-journal-" + std::to_string(n))).string()},
                   std::nullopt, std::chrono::seconds(20));
  REQUIRE(r.exit_code == 0);
  return read_text(out);
}

// A counter of the stats ("h3" requests, "dropped" datagrams...); 0 when absent.
inline std::uint64_t stat_of(const std::string& json, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + key + "\":([0-9]+)"))) return 0;
  return std::stoull(m[1]);
}

}  // namespace xfer::test
