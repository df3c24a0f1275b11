#include <catch2/catch.hpp>

#include <xfer/credentials.h>

#include "cli/why.h"

using namespace xfer;
using namespace xfer::cli;

namespace {
std::string all_lines(const TransferStatus& st, const WhyContext& ctx) {
  std::string out;
  for (const auto& l : explain_transfer(st, ctx)) out += l + "\n";
  return out;
}
}  // namespace

TEST_CASE("xfer why says what a waiting transfer waits for and what the server answered", "[cli][why]") {
  TransferStatus st;
  st.id = 7;
  st.destination = "/data/a.bin";
  st.state = TransferState::Waiting;
  st.attempts = 3;
  st.last_error = Error(ErrorCategory::HttpStatus, "server answered 503", true, 503);
  WhyContext ctx;
  st.next_attempt_at = ctx.now + std::chrono::seconds(42);
  ctx.running = true;
  ctx.limits = "whole run: 1.0 MiB/s; each transfer: none";
  const auto text = all_lines(st, ctx);
  CHECK_THAT(text, Catch::Contains("waits to retry after attempt 3"));
  CHECK_THAT(text, Catch::Contains("in 42 s"));
  CHECK_THAT(text, Catch::Contains("last server answer: HTTP 503"));
  CHECK_THAT(text, Catch::Contains("limits: whole run: 1.0 MiB/s"));
  ctx.running = false;
  CHECK_THAT(all_lines(st, ctx), Catch::Contains("once an xfer runs on this journal"));
}

TEST_CASE("xfer why names the secrets a paused transfer needs and where they go", "[cli][why]") {
  TransferStatus st;
  st.id = 2;
  st.state = TransferState::Paused;
  st.withheld_secrets = {"Authorization", std::string(kUrlUserinfo)};
  const auto text = all_lines(st, WhyContext{});
  CHECK_THAT(text, Catch::Contains("needs Authorization, url-userinfo again"));
  CHECK_THAT(text, Catch::Contains("-H 'NAME: value' and --user USER:PASSWORD"));
  st.withheld_secrets.clear();
  CHECK_THAT(all_lines(st, WhyContext{}), Catch::Contains("paused by request"));
  st.state = TransferState::Queued;
  CHECK_THAT(all_lines(st, WhyContext{}), Catch::Contains("nothing runs on this journal"));
}
