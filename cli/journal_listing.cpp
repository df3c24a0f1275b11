#include "cli/journal_listing.h"

#include <chrono>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/options.h"

namespace xfer::cli {
namespace {

using json = nlohmann::ordered_json;

json status_json(const TransferStatus& st) {
  json j;
  j["v"] = 1;
  j["id"] = st.id;
  j["direction"] = direction_name(st.direction);
  j["state"] = std::string(to_string(st.state));
  j["url"] = st.url;
  j["file"] = st.destination;
  if (!st.upload_url.empty()) j["upload_url"] = st.upload_url;
  j["bytes"] = st.bytes;
  j["durable_bytes"] = st.durable_bytes;
  j["total"] = st.total ? json(*st.total) : json(nullptr);
  j["attempts"] = st.attempts;
  if (st.next_attempt_at) j["next_attempt_at"] = iso_utc(*st.next_attempt_at);
  if (st.last_error) {
    json e;
    e["category"] = std::string(to_string(st.last_error->category()));
    e["retryable"] = st.last_error->retryable();
    if (st.last_error->http_status()) e["http_status"] = st.last_error->http_status();
    e["message"] = st.last_error->message();
    j["last_error"] = std::move(e);
  }
  if (!st.protocol.empty()) j["protocol"] = st.protocol;
  if (!st.withheld_secrets.empty()) j["withheld_secrets"] = st.withheld_secrets;
  return j;
}

#define XFER_DUMP(j) (j).dump(-1, ' ', false, json::error_handler_t::replace)

std::string amount(const TransferStatus& st) {
  return st.total ? fmt::format("{} of {}", human_bytes(static_cast<double>(st.bytes)),
                                human_bytes(static_cast<double>(*st.total)))
                  : human_bytes(static_cast<double>(st.bytes));
}

}  // namespace

std::optional<TransferState> parse_state(const std::string& name) {
  for (auto s : {TransferState::Queued, TransferState::Active, TransferState::Paused, TransferState::Waiting,
                 TransferState::Completed, TransferState::Failed, TransferState::Cancelled})
    if (to_string(s) == name) return s;
  return std::nullopt;
}

Result<std::vector<TransferStatus>> journal_transfers(Engine& engine, std::optional<TransferState> state) {
  auto paths = engine.journaled_paths();
  if (!paths) return std::unexpected(paths.error());
  std::vector<TransferStatus> out;
  for (const auto& p : *paths) {
    if (state && p.state != *state) continue;
    // A transfer may finish between the scan and the look: its state now is what counts.
    auto st = engine.status(p.id);
    if (st && (!state || st->state == *state)) out.push_back(std::move(*st));
  }
  return out;
}

std::string status_json_line(const TransferStatus& st) { return XFER_DUMP(status_json(st)); }

std::optional<TransferStatus> status_from_json_line(const std::string& line) {
  const auto j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("id") || !j.contains("state")) return std::nullopt;
  TransferStatus st;
  try {
    st.id = j.at("id").get<TransferId>();
    st.direction = j.value("direction", "download") == "upload" ? Direction::Upload : Direction::Download;
    const auto state = parse_state(j.at("state").get<std::string>());
    if (!state) return std::nullopt;
    st.state = *state;
    st.url = j.value("url", "");
    st.destination = j.value("file", "");
    st.upload_url = j.value("upload_url", "");
    st.bytes = j.value("bytes", std::uint64_t{0});
    st.durable_bytes = j.value("durable_bytes", std::uint64_t{0});
    if (j.contains("total") && j.at("total").is_number()) st.total = j.at("total").get<std::uint64_t>();
    st.attempts = j.value("attempts", std::uint32_t{0});
    if (j.contains("last_error")) {
      const auto& e = j.at("last_error");
      const auto category = error_category_named(e.value("category", "")).value_or(ErrorCategory::Internal);
      st.last_error = Error(category, e.value("message", ""), e.value("retryable", false), e.value("http_status", 0));
    }
    st.protocol = j.value("protocol", "");
    if (j.contains("withheld_secrets")) st.withheld_secrets = j.at("withheld_secrets").get<std::vector<std::string>>();
    if (j.contains("next_attempt_at")) st.next_attempt_at = parse_iso_utc(j.at("next_attempt_at").get<std::string>());
  } catch (const json::exception&) {
    return std::nullopt;
  }
  return st;
}

void print_ls_line(const TransferStatus& st, std::FILE* out) {
  std::fprintf(out, "%-8llu %-9s %-8s %-24s %s\n", static_cast<unsigned long long>(st.id),
               std::string(to_string(st.state)).c_str(), direction_name(st.direction), amount(st).c_str(),
               st.destination.c_str());
}

void print_status(const TransferStatus& st, std::FILE* out) {
  std::fprintf(out, "transfer %llu: %s %s\n", static_cast<unsigned long long>(st.id), direction_name(st.direction),
               std::string(to_string(st.state)).c_str());
  std::fprintf(out, "  url:       %s\n", st.url.c_str());
  std::fprintf(out, "  file:      %s\n", st.destination.c_str());
  if (!st.upload_url.empty()) std::fprintf(out, "  resource:  %s\n", st.upload_url.c_str());
  std::fprintf(out, "  bytes:     %s (%s durable)\n", amount(st).c_str(),
               human_bytes(static_cast<double>(st.durable_bytes)).c_str());
  if (!st.protocol.empty()) std::fprintf(out, "  protocol:  %s\n", st.protocol.c_str());
  std::fprintf(out, "  attempts:  %u\n", st.attempts);
  if (st.last_error) std::fprintf(out, "  why:       %s\n", st.last_error->describe().c_str());
  if (st.next_attempt_at) std::fprintf(out, "  next try:  %s\n", iso_utc(*st.next_attempt_at).c_str());
  if (!st.withheld_secrets.empty()) {
    std::string names;
    for (const auto& n : st.withheld_secrets) names += (names.empty() ? "" : ", ") + n;
    std::fprintf(out, "  secrets:   %s (never journaled: give them again to `xfer resume`)\n", names.c_str());
  }
}

}  // namespace xfer::cli
