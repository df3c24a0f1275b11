// Fuzz target (test server; links only xts_server): the fault-spec language of Xfer-Fault,
// ?fault=, --fault and /_control/faults (testserver/app/fault_spec), and how FaultEngine
// gathers a request's faults from its headers and query. Input: line 1 is a query string,
// every further line an Xfer-Fault header value; the whole input is also parsed as one spec.
// Checks:
//  - every accepted item is in range (status 100..599, throttle > 0, chance in [0,1],
//    retry-after only after status=), and its canonical text parses back to the same item;
//    the texts joined with ',' give the same list;
//  - plan_for fails exactly when one of the request's specs (headers, and the ?fault= values
//    decoded as forms are: %XX and '+') does not parse, and otherwise plans exactly the items
//    those specs name (no chance/times given → every item is armed; later items win).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "testserver/app/fault_engine.h"
#include "testserver/app/fault_spec.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

bool same_item(const xts::FaultItem& a, const xts::FaultItem& b) {
  const bool same_chance = a.chance.has_value() == b.chance.has_value() &&
                           (!a.chance || std::memcmp(&*a.chance, &*b.chance, sizeof(double)) == 0);
  return a.kind == b.kind && a.value == b.value && a.ms == b.ms && a.retry_after == b.retry_after &&
         a.times == b.times && same_chance && a.text == b.text;
}

void check_items(const std::vector<xts::FaultItem>& items) {
  std::string joined;
  for (const auto& item : items) {
    if (item.kind == xts::FaultKind::kStatus) FUZZ_CHECK(item.value >= 100 && item.value <= 599);
    if (item.kind == xts::FaultKind::kThrottle) FUZZ_CHECK(item.value > 0);
    if (item.retry_after) FUZZ_CHECK(item.kind == xts::FaultKind::kStatus);
    if (item.chance) FUZZ_CHECK(*item.chance >= 0.0 && *item.chance <= 1.0);
    FUZZ_CHECK(item.text.starts_with(xts::fault_name(item.kind)));
    const auto again = xts::parse_fault_spec(item.text);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->size() == 1);
    FUZZ_CHECK(same_item((*again)[0], item));
    if (!joined.empty()) joined += ',';
    joined += item.text;
  }
  const auto all = xts::parse_fault_spec(joined);
  FUZZ_CHECK(all.has_value() && all->size() == items.size());
  for (std::size_t i = 0; i < items.size(); ++i) FUZZ_CHECK(same_item((*all)[i], items[i]));
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded value decoding, as the fault engine documents it.
std::string form_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;
  const std::string_view input = xfer_fuzz::as_text(data, size);
  if (const auto items = xts::parse_fault_spec(input)) {
    check_items(*items);
  } else {
    FUZZ_CHECK(!items.error().empty());
  }

  const auto lines = xfer_fuzz::lines(input);
  xts::Request request;
  request.method = "GET";
  request.path = "/files/x";
  request.query = std::string(lines[0]);
  for (std::size_t i = 1; i < lines.size(); ++i) request.headers.push_back({"xfer-fault", std::string(lines[i])});

  // The specs the request carries, in the order the engine reads them.
  std::vector<std::string> specs;
  for (std::size_t i = 1; i < lines.size(); ++i) specs.emplace_back(lines[i]);
  std::size_t pos = 0;
  const std::string_view query = lines[0];
  while (pos < query.size()) {
    auto amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const auto kv = query.substr(pos, amp - pos);
    if (kv.starts_with("fault=")) specs.push_back(form_decode(kv.substr(6)));
    pos = amp + 1;
  }
  bool all_parse = true;
  bool plain = true;  // no chance= / times=: every item is armed
  xts::FaultPlan expected;
  for (const auto& spec : specs) {
    const auto items = xts::parse_fault_spec(spec);
    if (!items) {
      all_parse = false;
      break;
    }
    for (const auto& item : *items) {
      plain = plain && !item.chance && !item.times;
      expected.add(item);
    }
  }

  xts::FaultEngine engine({}, 42);
  const auto plan = engine.plan_for(request);
  FUZZ_CHECK(plan.has_value() == all_parse);
  if (plan && plain) {
    FUZZ_CHECK(plan->reset_after == expected.reset_after);
    FUZZ_CHECK(plan->close_after == expected.close_after);
    FUZZ_CHECK(plan->crash_after == expected.crash_after);
    FUZZ_CHECK(plan->stall_bytes == expected.stall_bytes && plan->stall_ms == expected.stall_ms);
    FUZZ_CHECK(plan->status.has_value() == expected.status.has_value());
    if (plan->status) FUZZ_CHECK(same_item(*plan->status, *expected.status));
    FUZZ_CHECK(plan->throttle == expected.throttle);
    FUZZ_CHECK(plan->no_104 == expected.no_104);
    FUZZ_CHECK(plan->lag_offset == expected.lag_offset);
    FUZZ_CHECK(plan->etag_change == expected.etag_change);
    FUZZ_CHECK(plan->corrupt == expected.corrupt);
    FUZZ_CHECK(plan->needs_decorator() == expected.needs_decorator());
  }
  return 0;
}
