#include "testserver/net/udp_impair.h"

#include <charconv>
#include <cmath>
#include <set>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

namespace xts::net {

namespace asio = boost::asio;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::expected<double, std::string> parse_probability(std::string_view key, std::string_view v) {
  double x = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty() || !std::isfinite(x))
    return std::unexpected(fmt::format("{}: not a number: '{}'", key, v));
  if (x < 0 || x > 1) return std::unexpected(fmt::format("{}: a probability must be in [0,1], got {}", key, v));
  return x;
}

std::expected<std::uint64_t, std::string> parse_count(std::string_view key, std::string_view v) {
  std::uint64_t x = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty())
    return std::unexpected(fmt::format("{}: not a non-negative integer: '{}'", key, v));
  return x;
}

// "50ms", "2s" or a bare number of milliseconds; at most 10 s.
std::expected<std::chrono::milliseconds, std::string> parse_delay(std::string_view v) {
  std::uint64_t scale = 1;
  if (v.ends_with("ms")) {
    v.remove_suffix(2);
  } else if (v.ends_with("s")) {
    v.remove_suffix(1);
    scale = 1000;
  }
  auto n = parse_count("delay", v);
  if (!n) return std::unexpected(n.error());
  if (*n > 10'000 || *n * scale > 10'000) return std::unexpected("delay: at most 10s");
  return std::chrono::milliseconds(*n * scale);
}

}  // namespace

std::expected<ImpairSpec, std::string> parse_impair_spec(std::string_view text) {
  ImpairSpec spec;
  std::set<std::string, std::less<>> seen;
  text = trim(text);
  if (text.empty()) return std::unexpected("empty spec");
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (comma != std::string_view::npos && trim(text).empty()) return std::unexpected("trailing ','");
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) return std::unexpected(fmt::format("'{}': expected key=value", item));
    const std::string_view key = trim(item.substr(0, eq));
    const std::string_view value = trim(item.substr(eq + 1));
    if (!seen.emplace(key).second) return std::unexpected(fmt::format("{}: given twice", key));
    if (key == "loss" || key == "reorder" || key == "corrupt") {
      auto p = parse_probability(key, value);
      if (!p) return std::unexpected(p.error());
      (key == "loss" ? spec.loss : key == "reorder" ? spec.reorder : spec.corrupt) = *p;
    } else if (key == "delay") {
      auto d = parse_delay(value);
      if (!d) return std::unexpected(d.error());
      spec.delay = *d;
    } else if (key == "blackhole-after") {
      auto n = parse_count(key, value);
      if (!n) return std::unexpected(n.error());
      spec.blackhole_after = *n;
    } else if (key == "seed") {
      auto n = parse_count(key, value);
      if (!n) return std::unexpected(n.error());
      spec.seed = *n;
    } else {
      return std::unexpected(fmt::format(
          "unknown key '{}' (known: loss, reorder, delay, corrupt, blackhole-after, seed)", key));
    }
  }
  return spec;
}

std::string ImpairSpec::to_string() const {
  std::string s = fmt::format("loss={},reorder={},delay={}ms,corrupt={}", loss, reorder, delay.count(), corrupt);
  if (blackhole_after) s += fmt::format(",blackhole-after={}", *blackhole_after);
  s += fmt::format(",seed={}", seed);
  return s;
}

ImpairCounters& impair_counters() {
  static ImpairCounters counters;
  return counters;
}

std::string ImpairCounters::summary() const {
  return fmt::format(
      "udp impair: datagrams={} bytes={} dropped={} reordered={} delayed={} corrupted={} blackholed={} queue_full={}",
      datagrams.load(), bytes.load(), dropped.load(), reordered.load(), delayed.load(), corrupted.load(),
      blackholed.load(), queue_full.load());
}

std::string ImpairCounters::json() const {
  return fmt::format(
      "{{\"impair\":{},\"datagrams\":{},\"bytes\":{},\"dropped\":{},\"reordered\":{},\"delayed\":{},"
      "\"corrupted\":{},\"blackholed\":{},\"queue_full\":{}}}",
      enabled.load() ? "true" : "false", datagrams.load(), bytes.load(), dropped.load(), reordered.load(),
      delayed.load(), corrupted.load(), blackholed.load(), queue_full.load());
}

Impairer::Impairer(asio::io_context& io, ImpairSpec spec)
    : io_(io), spec_(spec), rng_(spec.seed), delay_timer_(io) {
  for (auto& t : hold_timer_) t = std::make_unique<asio::steady_timer>(io);
  impair_counters().enabled = true;
}

Impairer::~Impairer() {
  *alive_ = false;
  clear();
}

void Impairer::clear() {
  for (auto& h : held_) h = Held{};
  for (auto& t : hold_timer_) t->cancel();
  queue_.clear();
  delay_timer_.cancel();
  delay_armed_ = false;
}

bool Impairer::chance(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p;
}

void Impairer::process(Direction dir, std::span<const std::uint8_t> data, Sink sink) {
  auto& counters = impair_counters();
  counters.datagrams.fetch_add(1, std::memory_order_relaxed);
  counters.bytes.fetch_add(data.size(), std::memory_order_relaxed);
  if (spec_.blackhole_after) {
    if (blackholed_ || passed_bytes_ >= *spec_.blackhole_after) {
      blackholed_ = true;
      counters.blackholed.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    passed_bytes_ += data.size();
  }
  if (chance(spec_.loss)) {
    counters.dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::vector<std::uint8_t> copy;
  std::span<const std::uint8_t> view = data;
  if (!data.empty() && chance(spec_.corrupt)) {
    copy.assign(data.begin(), data.end());
    const std::size_t at = static_cast<std::size_t>(rng_() % copy.size());
    copy[at] ^= 0xFF;
    view = copy;
    counters.corrupted.fetch_add(1, std::memory_order_relaxed);
  }
  const auto d = static_cast<std::size_t>(dir);
  Held& held = held_[d];
  if (!held.present && chance(spec_.reorder)) {
    // Held back: it goes after the next datagram in this direction, or after kReorderHold.
    counters.reordered.fetch_add(1, std::memory_order_relaxed);
    held.data.assign(view.begin(), view.end());
    held.sink = std::move(sink);
    held.present = true;
    held.generation = ++held_generation_;
    hold_timer_[d]->expires_after(kReorderHold);
    hold_timer_[d]->async_wait([this, dir, gen = held.generation, alive = std::weak_ptr<bool>(alive_)](
                                   const boost::system::error_code& ec) {
      if (ec || alive.expired()) return;
      if (held_[static_cast<std::size_t>(dir)].present && held_[static_cast<std::size_t>(dir)].generation == gen)
        release_held(dir);
    });
    return;
  }
  emit(view, sink);
  if (held_[d].present) release_held(dir);
}

void Impairer::release_held(Direction dir) {
  const auto d = static_cast<std::size_t>(dir);
  Held held = std::move(held_[d]);
  held_[d] = Held{};
  hold_timer_[d]->cancel();
  emit(held.data, held.sink);
}

void Impairer::emit(std::span<const std::uint8_t> data, Sink& sink) {
  if (spec_.delay.count() <= 0) {
    sink(data);
    return;
  }
  if (queue_.size() >= kMaxQueued) {
    impair_counters().queue_full.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  impair_counters().delayed.fetch_add(1, std::memory_order_relaxed);
  queue_.push_back({std::chrono::steady_clock::now() + spec_.delay, std::vector<std::uint8_t>(data.begin(), data.end()),
                    std::move(sink)});
  arm_delay_timer();
}

void Impairer::arm_delay_timer() {
  if (delay_armed_ || queue_.empty()) return;
  delay_armed_ = true;
  delay_timer_.expires_at(queue_.front().due);
  delay_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (alive.expired() || ec) return;  // ec: clear() cancelled it (and reset delay_armed_)
    delay_armed_ = false;
    on_delay_timer();
  });
}

void Impairer::on_delay_timer() {
  auto alive = std::weak_ptr<bool>(alive_);
  const auto now = std::chrono::steady_clock::now();
  // Bounded per turn; the fixed delay keeps the queue in due order.
  for (int i = 0; i < 256 && !queue_.empty() && queue_.front().due <= now; ++i) {
    Queued q = std::move(queue_.front());
    queue_.pop_front();
    q.sink(q.data);
    if (alive.expired()) return;
  }
  if (!queue_.empty()) {
    if (queue_.front().due <= now) {
      asio::post(io_, [this, alive] {
        if (!alive.expired()) on_delay_timer();
      });
      return;
    }
    arm_delay_timer();
  }
}

}  // namespace xts::net
