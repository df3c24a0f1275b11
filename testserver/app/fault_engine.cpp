#include "testserver/app/fault_engine.h"

#include <chrono>
#include <cstdio>

#include "testserver/app/http_util.h"

namespace xts {

namespace {

constexpr std::size_t kMaxLog = 10000;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// Every value of `fault=` in the query, decoded.
std::vector<std::string> query_faults(std::string_view query) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < query.size()) {
    auto amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const auto kv = query.substr(pos, amp - pos);
    if (kv.substr(0, 6) == "fault=") out.push_back(percent_decode(kv.substr(6)));
    pos = amp + 1;
  }
  return out;
}

}  // namespace

FaultEngine::FaultEngine(std::vector<FaultItem> server_wide, std::uint64_t seed)
    : server_wide_(std::move(server_wide)), rng_(seed) {}

bool FaultEngine::arm(const FaultItem& item) {
  if (item.chance) {
    std::uniform_real_distribution<double> dist(0.0, 1.0);
    if (!(dist(rng_) < *item.chance)) return false;
  }
  if (item.times) {
    auto& used = times_used_[item.text];
    if (used >= *item.times) return false;
    ++used;
  }
  return true;
}

bool FaultEngine::has_request_faults(const Request& request) {
  return request.header("xfer-fault") != nullptr || !query_faults(request.query).empty();
}

std::expected<FaultPlan, std::string> FaultEngine::plan_for(const Request& request) {
  std::vector<FaultItem> own;
  for (const auto& h : request.headers) {
    if (h.name != "xfer-fault") continue;
    auto items = parse_fault_spec(h.value);
    if (!items) return std::unexpected(items.error());
    own.insert(own.end(), items->begin(), items->end());
  }
  for (const auto& spec : query_faults(request.query)) {
    auto items = parse_fault_spec(spec);
    if (!items) return std::unexpected(items.error());
    own.insert(own.end(), items->begin(), items->end());
  }
  FaultPlan plan;
  // An OPTIONS (an upload client's limit discovery) moves no body bytes and gets no 104: only
  // status= can act on it, and arming the others there would use up their times=.
  const bool discovery = request.method == "OPTIONS";
  std::lock_guard lock(mutex_);
  for (const auto* list : {&server_wide_, &control_, &own}) {
    for (const auto& item : *list) {
      if (discovery && item.kind != FaultKind::kStatus) continue;
      if (arm(item)) plan.add(item);
    }
  }
  return plan;
}

void FaultEngine::set_control(std::vector<FaultItem> items) {
  std::lock_guard lock(mutex_);
  control_ = std::move(items);
}

void FaultEngine::clear_control() {
  std::lock_guard lock(mutex_);
  control_.clear();
}

std::string FaultEngine::control_text() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& item : control_) {
    if (!out.empty()) out += ",";
    out += item.text;
  }
  return out;
}

void FaultEngine::record(std::string_view fault, const Request& request,
                         std::string_view detail_json) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::string line = "{\"fault\":\"" + json_escape(fault) + "\",\"time_ms\":" +
                     std::to_string(now) + ",\"method\":\"" + json_escape(request.method) +
                     "\",\"path\":\"" + json_escape(request.path) + "\",\"protocol\":\"" +
                     json_escape(request.protocol) + "\",\"peer\":\"" + json_escape(request.peer) +
                     "\"";
  if (!detail_json.empty()) {
    line += ",";
    line += detail_json;
  }
  line += "}";
  {
    std::lock_guard lock(mutex_);
    if (log_.size() < kMaxLog) log_.push_back(line);
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

std::string FaultEngine::log_json() const {
  std::lock_guard lock(mutex_);
  std::string out = "[";
  for (std::size_t i = 0; i < log_.size(); ++i) {
    if (i) out += ",\n";
    out += log_[i];
  }
  out += "]\n";
  return out;
}

std::uint64_t FaultEngine::next_etag_generation() {
  std::lock_guard lock(mutex_);
  return ++etag_generation_;
}

}  // namespace xts
