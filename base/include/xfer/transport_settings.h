// TransportSettings: what an embedder or the CLI may tune on the transports, one set for all
// of them (libcurl's HTTP/1.1 and HTTP/2 today, HTTP/3 later, under the same trust rules).
// Defaults are the safe choice: TLS verification on, bounded connections and header bytes.
// Per-request knobs (timeouts, the HTTP version, redirects) are on the request, not here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace xfer {

struct TransportSettings {
  // Connection caps. Per origin (host:port) and for the whole process; the total is also the
  // hard ceiling on open sockets (plus short-lived happy-eyeballs attempts).
  std::uint32_t max_connections_per_origin = 8;
  std::uint32_t max_connections_total = 64;
  // HTTP/2 streams opened on one connection before another is opened (if allowed).
  std::uint32_t max_streams_per_connection = 100;

  // TLS: verification is on unless `insecure`. `ca_file` replaces the system trust store (PEM).
  bool insecure = false;
  std::string ca_file;

  // Total header bytes accepted for one exchange (interim + final + trailers); more is a
  // protocol error, not an allocation failure.
  std::size_t max_header_bytes = 256 * 1024;

  // Receive and upload buffer sizes (large buffers mean fewer, larger sink calls).
  std::size_t receive_buffer_bytes = 512 * 1024;
  std::size_t upload_buffer_bytes = 512 * 1024;

  // HTTP/2 on an http:// URL: prior knowledge (h2c) when true, otherwise HTTP/1.1 (there is no
  // ALPN on cleartext).
  bool h2c_prior_knowledge = true;

  // Sent as User-Agent unless the request carries its own; empty sends none.
  std::string user_agent = "xfer/0.1";
};

}  // namespace xfer
