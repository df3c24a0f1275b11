// Fault specs: the little language of `Xfer-Fault`, `?fault=`, `--fault` and
// `POST /_control/faults` (docs/testserver.md lists every item). A spec is a comma-separated
// list of items; the modifiers `chance=`, `times=` and (after `status=`) `retry-after=` attach
// to the item before them. FaultPlan is what one request ends up with after chance and times
// were decided.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xts {

enum class FaultKind {
  kResetAfter,
  kCloseAfter,
  kStall,
  kStatus,
  kThrottle,
  kNo104,
  kLagOffset,
  kEtagChange,
  kCorrupt,
  kCrashAfter,
};

struct FaultItem {
  FaultKind kind = FaultKind::kStatus;
  std::uint64_t value = 0;  // bytes, status code, bytes/s or file offset
  std::uint64_t ms = 0;     // stall duration
  std::optional<std::uint64_t> retry_after;
  std::optional<std::uint64_t> times;
  std::optional<double> chance;
  std::string text;  // canonical text, also the key of the per-server `times` counter
};

std::string_view fault_name(FaultKind kind);
std::expected<std::vector<FaultItem>, std::string> parse_fault_spec(std::string_view spec);

struct FaultPlan {
  std::optional<std::uint64_t> reset_after;
  std::optional<std::uint64_t> close_after;
  std::optional<std::uint64_t> crash_after;
  std::optional<std::uint64_t> stall_bytes;
  std::uint64_t stall_ms = 0;
  std::optional<FaultItem> status;
  std::optional<std::uint64_t> throttle;
  bool no_104 = false;
  std::optional<std::uint64_t> lag_offset;
  bool etag_change = false;
  std::optional<std::uint64_t> corrupt;

  void add(const FaultItem& item);
  // Faults that act on the byte stream or on interim responses (the Exchange decorator's job).
  bool needs_decorator() const {
    return reset_after || close_after || crash_after || stall_bytes || throttle || no_104;
  }
};

}  // namespace xts
