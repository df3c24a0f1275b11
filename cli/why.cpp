#include "cli/why.h"

#include <cmath>

#include <fmt/format.h>

#include <xfer/credentials.h>

#include "cli/options.h"

namespace xfer::cli {
namespace {

std::string size_of(const TransferStatus& st) {
  std::string s = human_bytes(static_cast<double>(st.bytes));
  if (st.total) s += " of " + human_bytes(static_cast<double>(*st.total));
  return s;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string in_how_long(std::chrono::system_clock::time_point at, std::chrono::system_clock::time_point now) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(at - now).count();
  if (s <= 0) return "due now";
  if (s < 120) return fmt::format("in {} s", s);
  if (s < 7200) return fmt::format("in {} min", (s + 30) / 60);
  return fmt::format("in {:.1f} h", static_cast<double>(s) / 3600.0);
}

// Where each secret kept out of the journal goes again.
std::string secrets_remedy(const std::vector<std::string>& names) {
  bool userinfo = false, headers = false;
  for (const auto& n : names) (n == kUrlUserinfo ? userinfo : headers) = true;
  if (userinfo && headers) return "-H 'NAME: value' and --user USER:PASSWORD";
  return userinfo ? "--user USER:PASSWORD" : "-H 'NAME: value'";
}

}  // namespace

std::vector<std::string> explain_transfer(const TransferStatus& st, const WhyContext& ctx) {
  std::vector<std::string> lines;
  const std::string who = fmt::format("transfer {} ({} {})", st.id, direction_name(st.direction), st.destination);
  const std::string no_run = "nothing runs on this journal: `xfer resume` or `xfer daemon` continues it";
  switch (st.state) {
    case TransferState::Queued:
      lines.push_back(fmt::format("{} is queued: {}", who,
                                  ctx.running ? "it waits for a free slot (the run's --concurrency and --per-host "
                                                "caps; higher priorities go first)"
                                              : no_run));
      break;
    case TransferState::Active:
      // The speed is measured over the last second: none yet just after a start.
      lines.push_back(fmt::format("{} is moving: {}{}{}", who, size_of(st),
                                  st.bytes_per_second > 0 ? " at " + human_bytes(st.bytes_per_second) + "/s" : "",
                                  st.protocol.empty() ? "" : " over " + st.protocol));
      break;
    case TransferState::Waiting:
      lines.push_back(fmt::format("{} waits to retry after attempt {}", who, st.attempts));
      if (st.next_attempt_at)
        lines.push_back(fmt::format("next attempt: {} ({}){}", iso_utc(*st.next_attempt_at),
                                    in_how_long(*st.next_attempt_at, ctx.now),
                                    ctx.running ? "" : ", once an xfer runs on this journal"));
      break;
    case TransferState::Paused:
      if (!st.withheld_secrets.empty())
        lines.push_back(fmt::format("{} is paused: it needs {} again, which are never journaled: give {} to `xfer "
                                    "resume` (or to the daemon)", who, joined(st.withheld_secrets),
                                    secrets_remedy(st.withheld_secrets)));
      else if (st.last_error)
        lines.push_back(fmt::format("{} is paused by a local error: fix it, then `xfer resume`{}", who,
                                    st.last_error->category() == ErrorCategory::DiskFull ? " (free some space)" : ""));
      else
        lines.push_back(fmt::format("{} is paused by request: `xfer resume {}` continues it", who, st.id));
      break;
    case TransferState::Failed:
      lines.push_back(fmt::format("{} failed for good after {} attempt{}", who, st.attempts, st.attempts == 1 ? "" : "s"));
      if (st.last_error && st.last_error->retryable())
        lines.push_back("the failure was retryable: the retry budget ran out (--retry, --retry-max-time)");
      break;
    case TransferState::Completed:
      lines.push_back(fmt::format("{} completed: {} {}", who, human_bytes(static_cast<double>(st.bytes)),
                                  st.direction == Direction::Upload ? "acknowledged by the server"
                                                                    : "verified and in place"));
      break;
    case TransferState::Cancelled:
      lines.push_back(fmt::format("{} was cancelled", who));
      break;
  }
  const bool finished = st.state == TransferState::Completed || st.state == TransferState::Cancelled;
  if (st.last_error && !finished) {
    lines.push_back("reason: " + st.last_error->describe());
    if (st.last_error->http_status() != 0)
      lines.push_back(fmt::format("last server answer: HTTP {}", st.last_error->http_status()));
  }
  if (!finished && st.state != TransferState::Active && st.bytes > 0)
    lines.push_back(fmt::format("kept so far: {} ({} durable: that much is not moved again)", size_of(st),
                                human_bytes(static_cast<double>(st.durable_bytes))));
  if (!finished) {
    if (ctx.limits) lines.push_back("limits: " + *ctx.limits);
  }
  return lines;
}

}  // namespace xfer::cli
