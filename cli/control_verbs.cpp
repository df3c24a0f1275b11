#include "cli/control_verbs.h"

#include <array>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/line_reader.h"
#include "cli/manifest.h"
#include "cli/options.h"

namespace xfer::cli {
namespace {

using json = nlohmann::ordered_json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

ControlAnswer refused(const std::string& why, int code = kExitUsage) {
  ControlAnswer a;
  a.error = why;
  a.exit_code = code;
  return a;
}

ControlAnswer fine(std::vector<std::string> lines = {}) {
  ControlAnswer a;
  a.ok = true;
  a.lines = std::move(lines);
  return a;
}

std::string limit_line(const BandwidthControl::Shown& s) {
  json j;
  j["v"] = 1;
  j["whole_run"] = s.whole_run_text;
  j["whole_run_now"] = s.whole_run_now;
  j["per_transfer"] = s.per_transfer_text;
  j["per_transfer_now"] = s.per_transfer_now;
  return dump(j);
}

constexpr std::array<std::pair<HttpVersion, const char*>, 5> kProtocolFlags{{
    {HttpVersion::Any, "any"},
    {HttpVersion::Http1_1, "http1.1"},
    {HttpVersion::Http2, "http2"},
    {HttpVersion::Http3, "http3-only"},
    {HttpVersion::Http3Preferred, "http3"},
}};

}  // namespace

const char* protocol_flag_name(HttpVersion version) {
  for (const auto& [v, name] : kProtocolFlags)
    if (v == version) return name;
  return "any";
}

std::optional<HttpVersion> protocol_from_flag_name(const std::string& name) {
  for (const auto& [v, n] : kProtocolFlags)
    if (name == n) return v;
  return std::nullopt;
}

ControlVerb limit_verb(BandwidthControl& bandwidth) {
  return [&bandwidth](const std::string& request) {
    const auto j = json::parse(request, nullptr, false);
    if (j.contains("rate")) {
      if (!j.at("rate").is_string()) return refused("\"rate\" is a string such as \"1M\" or \"08:00,1M 18:00,off\"");
      auto schedule = RateSchedule::parse(j.at("rate").get<std::string>());
      if (!schedule) return refused(schedule.error().message());
      const bool per_transfer = j.value("per_transfer", false);
      if (auto r = bandwidth.replace(std::move(*schedule), per_transfer); !r)
        return refused(r.error().describe(), exit_code_for(r.error().category()));
    }
    return fine({limit_line(bandwidth.shown())});
  };
}

std::string describe_limits(const std::string& answer_line) {
  const auto j = json::parse(answer_line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return answer_line;
  const auto one = [&](const char* text_key, const char* now_key) {
    const std::string text = j.value(text_key, "off");
    const auto now = j.value(now_key, std::uint64_t{0});
    const std::string rate = now == 0 ? "none" : human_bytes(static_cast<double>(now)) + "/s";
    // A schedule is shown beside the rate it gives now.
    return text.find(',') == std::string::npos ? rate : fmt::format("{} now (schedule \"{}\")", rate, text);
  };
  return fmt::format("whole run: {}; each transfer: {}", one("whole_run", "whole_run_now"),
                     one("per_transfer", "per_transfer_now"));
}

ControlAnswer add_entries(Engine& engine, const std::string& lines, const BatchDefaults& defaults) {
  auto source = string_source(lines);
  ManifestReader reader(*source);
  struct Ready {
    std::size_t entry;
    std::string file;
    TransferSpec spec;
  };
  std::vector<Ready> ready;
  std::vector<std::pair<std::size_t, std::string>> answers;  // by entry number
  std::size_t refused_count = 0;
  auto refuse = [&](std::size_t entry, const std::string& why) {
    json j;
    j["entry"] = entry;
    j["error"] = why;
    answers.emplace_back(entry, dump(j));
    ++refused_count;
  };
  // Bounded by the request's size: one entry per line.
  while (auto item = reader.next()) {
    if (const auto* bad = std::get_if<ManifestError>(&*item)) {
      refuse(bad->line, bad->reason);
      continue;
    }
    const auto& entry = std::get<ManifestEntry>(*item);
    auto prepared = prepare_entry(entry, defaults);
    if (!prepared) {
      refuse(entry.line, prepared.error().describe());
      continue;
    }
    ready.push_back(Ready{entry.line, prepared->info.path, std::move(prepared->spec)});
  }
  if (const auto& fatal = reader.fatal()) return refused(fatal->describe());
  auto accepted = [&](const Ready& r, TransferId id) {
    json j;
    j["entry"] = r.entry;
    j["id"] = id;
    j["file"] = r.file;
    answers.emplace_back(r.entry, dump(j));
  };
  std::vector<TransferSpec> specs;
  for (const auto& r : ready) specs.push_back(r.spec);
  // One synced journal write for them all; when the engine refuses that batch, each on its own,
  // so that one bad entry costs only itself.
  if (auto ids = engine.enqueue(std::move(specs)); ids && ids->size() == ready.size()) {
    for (std::size_t i = 0; i < ready.size(); ++i) accepted(ready[i], (*ids)[i]);
  } else {
    for (auto& r : ready) {
      if (auto id = engine.enqueue(r.spec)) accepted(r, *id);
      else refuse(r.entry, id.error().describe());
    }
  }
  std::sort(answers.begin(), answers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  ControlAnswer out = fine();
  for (auto& [n, line] : answers) out.lines.push_back(std::move(line));
  if (refused_count > 0) {
    out.ok = false;
    out.error = fmt::format("{} of {} entries were refused", refused_count, answers.size());
    out.exit_code = refused_count == answers.size() ? kExitUsage : kExitSomeFailed;
  }
  return out;
}

ControlVerb add_verb(Engine& engine, BatchDefaults defaults) {
  return [&engine, defaults](const std::string& request) {
    const auto j = json::parse(request, nullptr, false);
    if (!j.contains("entries") || !j.at("entries").is_array() || j.at("entries").empty())
      return refused("add needs \"entries\": a list of manifest objects");
    BatchDefaults these = defaults;
    if (j.contains("protocol")) {
      const auto p = protocol_from_flag_name(j.value("protocol", ""));
      if (!p) return refused("unknown \"protocol\"");
      these.protocol = *p;
    }
    std::string lines;
    for (const auto& entry : j.at("entries")) lines += dump(entry) + "\n";
    return add_entries(engine, lines, these);
  };
}

ControlVerb events_verb(TerminalInbox& inbox) {
  return [&inbox](const std::string&) {
    std::vector<std::string> lines;
    for (const auto& e : inbox.pending()) lines.push_back(event_json_line(e));
    return fine(std::move(lines));
  };
}

ControlVerb ack_verb(TerminalInbox& inbox, Engine& engine) {
  return [&inbox, &engine](const std::string& request) {
    const auto j = json::parse(request, nullptr, false);
    if (!j.contains("seqs") || !j.at("seqs").is_array()) return refused("ack needs \"seqs\": event numbers");
    std::vector<std::uint64_t> seqs;
    for (const auto& s : j.at("seqs")) {
      if (!s.is_number_unsigned()) return refused("\"seqs\" are event numbers");
      seqs.push_back(s.get<std::uint64_t>());
    }
    if (auto r = inbox.ack(engine, seqs); !r)
      return refused(r.error().message(),
                     r.error().category() == ErrorCategory::NotFound ? kExitUsage : exit_code_for(r.error().category()));
    return fine();
  };
}

}  // namespace xfer::cli
