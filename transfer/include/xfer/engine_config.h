// EngineConfig: the knobs of an Engine. Every field has a safe default; docs/engine.md explains
// each one and why its default is what it is.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <xfer/credentials.h>
#include <xfer/events.h>
#include <xfer/http_version.h>
#include <xfer/transport_settings.h>
#include <optional>

namespace xfer {

struct EngineConfig {
  // Scheduler.
  std::uint32_t max_active = 32;              // transfers moving bytes at once (all origins)
  std::uint32_t max_active_per_origin = 6;    // per origin over HTTP/1.1
  std::uint32_t max_streams_per_origin = 64;  // per origin once it is known to multiplex (h2)

  // Durability: checkpoint (fdatasync, then journal the offset) every this many bytes or this
  // much time, whichever comes first.
  std::uint64_t checkpoint_bytes = 16ull << 20;
  std::chrono::milliseconds checkpoint_interval{1000};

  // Retries: exponential backoff with full jitter between base and cap.
  std::uint32_t max_attempts = 10;  // total attempts per transfer (first one included)
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{30'000};
  std::chrono::milliseconds max_retry_elapsed{std::chrono::hours(24)};
  // The longest single wait before a retry. A server whose Retry-After asks for more is given
  // up on (its HTTP status is the error), never waited for in silence.
  std::chrono::milliseconds max_retry_wait{std::chrono::minutes(5)};
  // Circuit breaker per origin: this many consecutive failures open it for `breaker_cooldown`.
  std::uint32_t breaker_failures = 5;
  std::chrono::milliseconds breaker_cooldown{10'000};
  // Low-speed watchdog: below this rate for this long → retry on a new connection.
  std::uint32_t low_speed_bytes_per_sec = 1024;
  std::uint32_t low_speed_seconds = 20;
  std::uint32_t connect_timeout_ms = 15'000;

  // Rate limits in bytes per second; 0 = unlimited.
  std::uint64_t rate_limit_global = 0;
  std::uint64_t rate_limit_per_origin = 0;
  std::uint64_t rate_limit_per_transfer = 0;

  // Connections, TLS trust, buffers: handed to the transports as they are. (The per-origin
  // connection cap is raised to at least max_active_per_origin, or that could never be met.)
  TransportSettings transport;
  std::uint32_t max_redirects = 10;
  // Redirects to another origin, and an upload resource whose Location names another origin,
  // get none of a spec's headers or URL userinfo unless this is set (curl's
  // --location-trusted); even then never from https to http (an upload Location that leaves
  // https is refused outright).
  bool forward_headers_across_origins = false;
  HttpVersion protocol = HttpVersion::Any;  // default for specs that say Any

  // Segmented downloads only for files at least this large (and only when ranges work)...
  std::uint64_t segment_threshold = 4ull << 20;
  // ...and only when one connection proves slow: `segment_probe` into a fresh download the rest
  // of the file is split into the spec's segments if the single stream moved fewer than
  // `segment_below_rate` bytes per second. Segments pay against per-connection limits and long
  // round trips; on a fast path they only add overhead. A zero probe splits at once.
  std::chrono::milliseconds segment_probe{1000};
  std::uint64_t segment_below_rate = 64ull << 20;
  // Ask servers for Repr-Digest (sha-256) and verify it.
  bool want_digest = true;
  // Report a digest of every completed transfer on its Completed event (Event::digest). Costs
  // one hash of every byte (on the blocking pool, from the page cache as checkpoints make bytes
  // durable, so the file is not read twice): measured 0.7 s of CPU per GiB for SHA-256 on a CPU
  // with SHA instructions, and on a link faster than about 1 GB/s the hashing, not the network,
  // sets the pace. Nothing more when the server sends a sha-256 Repr-Digest (that hash is made
  // anyway). Off, only digests that are expected are computed.
  bool report_digests = false;

  // Secrets are never journaled (see <xfer/credentials.h>). A transfer enqueued by an earlier
  // process that withheld some asks for them here when it starts (on the engine thread; keep
  // it short). Returning nullopt, or leaving this empty, pauses such a transfer with an
  // InvalidArgument error naming what it needs.
  std::function<std::optional<Credentials>(const CredentialRequest&)> credentials;

  // Events: when set, called on the engine thread for every event (keep it short; do not call
  // back into the Engine from it). When empty, events wait in a poll queue (Engine::next_event).
  std::function<void(const Event&)> on_event;
  // Progress events at most this often per transfer.
  std::chrono::milliseconds progress_interval{250};
};

}  // namespace xfer
