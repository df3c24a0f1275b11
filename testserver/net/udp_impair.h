// UDP impairment (--udp-impair SPEC): loss, reordering, fixed delay, corruption and a
// blackhole after N bytes, applied one datagram at a time, in both directions, by DatagramPath
// (the HTTP/3 listener) and by the UDP relay. The kernel here has no netem, so this is where
// network faults for HTTP/3 come from. Deterministic for a given seed and the same sequence of
// datagrams (one std::mt19937_64 shared by both directions). Event-loop thread only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace xts::net {

struct ImpairSpec {
  double loss = 0;       // probability a datagram is dropped
  double reorder = 0;    // probability a datagram is held back until after the next one (or kReorderHold)
  double corrupt = 0;    // probability one random byte is flipped (XOR 0xFF)
  std::chrono::milliseconds delay{0};  // fixed extra latency
  std::optional<std::uint64_t> blackhole_after;  // bytes (both directions) after which everything is dropped
  std::uint64_t seed = 0;
  bool active() const { return loss > 0 || reorder > 0 || corrupt > 0 || delay.count() > 0 || blackhole_after; }
  std::string to_string() const;
};

// "loss=0.05,reorder=0.01,delay=50ms,corrupt=0.001,blackhole-after=1000000,seed=7". Every key
// optional; an unknown key, a repeated key, a bad number or a probability outside [0,1] is an
// error (a sentence).
std::expected<ImpairSpec, std::string> parse_impair_spec(std::string_view text);

// What was done, process-wide (one listener or one relay per process). Atomics so that a
// reader on another thread sees sane values.
struct ImpairCounters {
  std::atomic<std::uint64_t> datagrams{0};   // seen (both directions)
  std::atomic<std::uint64_t> bytes{0};       // seen
  std::atomic<std::uint64_t> dropped{0};     // by loss=
  std::atomic<std::uint64_t> reordered{0};
  std::atomic<std::uint64_t> delayed{0};
  std::atomic<std::uint64_t> corrupted{0};
  std::atomic<std::uint64_t> blackholed{0};  // dropped after blackhole-after=
  std::atomic<std::uint64_t> queue_full{0};  // dropped because the delay queue was full
  std::atomic<bool> enabled{false};
  std::string summary() const;  // one line for the log
  std::string json() const;     // {"impair":true,"datagrams":…,…}
};
ImpairCounters& impair_counters();

class Impairer {
 public:
  enum class Direction { In = 0, Out = 1 };
  // Receives the datagram (possibly a corrupted copy) when it is let through: at once, or from
  // a timer later. Must not throw.
  using Sink = std::function<void(std::span<const std::uint8_t>)>;

  static constexpr std::size_t kMaxQueued = 4096;  // delay queue; beyond it, datagrams are dropped
  static constexpr std::chrono::milliseconds kReorderHold{10};

  Impairer(boost::asio::io_context& io, ImpairSpec spec);
  ~Impairer();
  Impairer(const Impairer&) = delete;
  Impairer& operator=(const Impairer&) = delete;

  const ImpairSpec& spec() const { return spec_; }
  // Takes one datagram through the impairment; `sink` is called with it zero or one times
  // (synchronously when nothing holds it back).
  void process(Direction dir, std::span<const std::uint8_t> data, Sink sink);
  // Drops everything queued or held (nothing more is delivered).
  void clear();

 private:
  struct Held {
    std::vector<std::uint8_t> data;
    Sink sink;
    std::uint64_t generation = 0;
    bool present = false;
  };
  struct Queued {
    std::chrono::steady_clock::time_point due;
    std::vector<std::uint8_t> data;
    Sink sink;
  };
  bool chance(double p);
  void emit(std::span<const std::uint8_t> data, Sink& sink);  // after reordering: delay or deliver
  void release_held(Direction dir);
  void arm_delay_timer();
  void on_delay_timer();

  boost::asio::io_context& io_;
  ImpairSpec spec_;
  std::mt19937_64 rng_;
  std::uint64_t passed_bytes_ = 0;
  bool blackholed_ = false;
  Held held_[2];
  std::uint64_t held_generation_ = 0;
  std::unique_ptr<boost::asio::steady_timer> hold_timer_[2];
  std::deque<Queued> queue_;
  boost::asio::steady_timer delay_timer_;
  bool delay_armed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace xts::net
