#include "testserver/app/fault_spec.h"

#include <cstdlib>

#include "testserver/app/http_util.h"

namespace xts {

std::string_view fault_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kResetAfter: return "reset-after";
    case FaultKind::kCloseAfter: return "close-after";
    case FaultKind::kStall: return "stall";
    case FaultKind::kStatus: return "status";
    case FaultKind::kThrottle: return "throttle";
    case FaultKind::kNo104: return "no-104";
    case FaultKind::kLagOffset: return "lag-offset";
    case FaultKind::kEtagChange: return "etag-change";
    case FaultKind::kCorrupt: return "corrupt";
    case FaultKind::kCrashAfter: return "crash-after";
  }
  return "?";
}

namespace {

std::optional<FaultKind> kind_of(std::string_view name) {
  for (auto k : {FaultKind::kResetAfter, FaultKind::kCloseAfter, FaultKind::kStall,
                 FaultKind::kStatus, FaultKind::kThrottle, FaultKind::kNo104,
                 FaultKind::kLagOffset, FaultKind::kEtagChange, FaultKind::kCorrupt,
                 FaultKind::kCrashAfter}) {
    if (fault_name(k) == name) return k;
  }
  return std::nullopt;
}

std::optional<double> parse_chance(std::string_view s) {
  if (s.empty() || s.size() > 32) return std::nullopt;
  std::string str(s);
  char* end = nullptr;
  const double v = std::strtod(str.c_str(), &end);
  if (end != str.c_str() + str.size() || !(v >= 0.0 && v <= 1.0)) return std::nullopt;
  return v;
}

}  // namespace

std::expected<std::vector<FaultItem>, std::string> parse_fault_spec(std::string_view spec) {
  std::vector<FaultItem> items;
  std::size_t pos = 0;
  spec = trim(spec);
  if (spec.empty()) return items;
  while (pos <= spec.size()) {
    auto comma = spec.find(',', pos);
    if (comma == std::string_view::npos) comma = spec.size();
    const auto part = trim(spec.substr(pos, comma - pos));
    pos = comma + 1;
    if (part.empty()) return std::unexpected("empty fault item");
    const auto eq = part.find('=');
    const auto name = part.substr(0, eq);
    const auto value = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    const bool has_value = eq != std::string_view::npos;
    const std::string where = "fault item '" + std::string(part) + "'";

    if (name == "chance" || name == "times" || name == "retry-after") {
      if (items.empty()) return std::unexpected(where + ": modifier without a fault before it");
      auto& last = items.back();
      if (name == "chance") {
        const auto c = parse_chance(value);
        if (!c) return std::unexpected(where + ": chance must be a number in 0..1");
        last.chance = c;
      } else {
        const auto n = parse_u64(value);
        if (!n) return std::unexpected(where + ": expected a non-negative integer");
        if (name == "times") {
          last.times = n;
        } else {
          if (last.kind != FaultKind::kStatus)
            return std::unexpected(where + ": retry-after belongs to status=");
          last.retry_after = n;
        }
      }
      last.text += ",";
      last.text += part;
      continue;
    }

    const auto kind = kind_of(name);
    if (!kind) return std::unexpected(where + ": unknown fault");
    FaultItem item;
    item.kind = *kind;
    item.text = std::string(part);
    switch (*kind) {
      case FaultKind::kNo104:
      case FaultKind::kEtagChange:
        if (has_value) return std::unexpected(where + ": takes no value");
        break;
      case FaultKind::kStall: {
        const auto colon = value.find(':');
        if (colon == std::string_view::npos)
          return std::unexpected(where + ": expected stall=<bytes>:<ms>");
        const auto b = parse_u64(value.substr(0, colon));
        const auto ms = parse_u64(value.substr(colon + 1));
        if (!b || !ms) return std::unexpected(where + ": expected stall=<bytes>:<ms>");
        item.value = *b;
        item.ms = *ms;
        break;
      }
      default: {
        const auto n = parse_u64(value);
        if (!n) return std::unexpected(where + ": expected a non-negative integer");
        item.value = *n;
        if (*kind == FaultKind::kStatus && (*n < 100 || *n > 599))
          return std::unexpected(where + ": status must be 100..599");
        if (*kind == FaultKind::kThrottle && *n == 0)
          return std::unexpected(where + ": throttle must be > 0");
      }
    }
    items.push_back(std::move(item));
  }
  return items;
}

void FaultPlan::add(const FaultItem& item) {
  switch (item.kind) {
    case FaultKind::kResetAfter: reset_after = item.value; break;
    case FaultKind::kCloseAfter: close_after = item.value; break;
    case FaultKind::kCrashAfter: crash_after = item.value; break;
    case FaultKind::kStall:
      stall_bytes = item.value;
      stall_ms = item.ms;
      break;
    case FaultKind::kStatus: status = item; break;
    case FaultKind::kThrottle: throttle = item.value; break;
    case FaultKind::kNo104: no_104 = true; break;
    case FaultKind::kLagOffset: lag_offset = item.value; break;
    case FaultKind::kEtagChange: etag_change = true; break;
    case FaultKind::kCorrupt: corrupt = item.value; break;
  }
}

}  // namespace xts
