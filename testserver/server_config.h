// ServerConfig: everything the command line of xfer-testserver sets (names fixed by the
// test-server issue; docs/testserver.md documents them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace xts {

struct ServerConfig {
  std::string root;          // --root: files served under /files/, completed uploads land here
  std::string data;          // --data: leveldb upload state and partial upload bodies
  std::string listen;        // --listen HOST:PORT (TLS, ALPN h2 + http/1.1); empty = off
  std::string listen_plain;  // --listen-plain HOST:PORT (HTTP/1.1 + h2c prior knowledge)
  std::string cert_file;     // --cert
  std::string key_file;      // --key
  bool self_signed = false;  // --self-signed: generate a throwaway localhost cert in --data
  std::string fault;         // --fault SPEC: server-wide fault
  std::uint64_t fault_seed = 0;  // --fault-seed
  bool control = false;          // --control: enables /_control/
  std::string auth_token;        // --auth-token: Bearer token for uploads and control
  std::string fault_token;       // --fault-token: needed for request faults (default: auth_token)
  bool log_json = false;         // --log json
  bool http3 = true;             // --no-http3 turns the HTTP/3 listener (UDP, same port as --listen) off
  bool quic_retry = true;        // --no-quic-retry: accept QUIC clients without a Retry round trip
  std::string udp_impair;        // --udp-impair SPEC: loss/reorder/delay/corrupt/blackhole on every UDP datagram
  std::string udp_relay;         // --udp-relay LISTEN=TARGET: run as a UDP relay instead of a server
  std::uint64_t rebind_after = 0;  // --rebind-after N (relay): new source port towards TARGET after N bytes; 0 = never
};

}  // namespace xts
