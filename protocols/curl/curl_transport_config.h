// CurlTransportConfig: what the composition root (cli/, tests) may tune on the libcurl
// transport. Defaults are the safe choice: TLS verification on, bounded connections and header
// bytes, no content decoding. (Redirects: protocols/redirect/redirecting_transport.h.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace xfer::protocols::curl {

struct CurlTransportConfig {
  // Connection caps. Per origin (host:port) and for the whole process; the total is also the
  // hard ceiling on open sockets (plus short-lived happy-eyeballs attempts).
  std::uint32_t max_connections_per_origin = 8;
  std::uint32_t max_connections_total = 64;
  // HTTP/2 streams libcurl opens on one connection before it opens another (if allowed).
  std::uint32_t max_streams_per_connection = 100;

  // TLS: verification is on unless `insecure`. `ca_file` replaces the system CA bundle (PEM).
  bool insecure = false;
  std::string ca_file;

  // Total header bytes accepted for one exchange (interim + final + trailers).
  std::size_t max_header_bytes = 256 * 1024;

  // libcurl receive and upload buffer sizes (large buffers mean fewer, larger sink calls).
  std::size_t receive_buffer_bytes = 512 * 1024;
  std::size_t upload_buffer_bytes = 512 * 1024;

  // HttpVersion::Http2 on an http:// URL: speak HTTP/2 with prior knowledge (h2c) when true,
  // otherwise HTTP/1.1 (there is no ALPN on cleartext).
  bool h2c_prior_knowledge = true;

  // Sent as User-Agent unless the request carries its own; empty sends none.
  std::string user_agent = "xfer/0.1";
};

}  // namespace xfer::protocols::curl
