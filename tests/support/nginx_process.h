// NginxProcess: a real nginx on 127.0.0.1 with ephemeral ports, for integration tests and
// benchmarks. It runs in the foreground as one process (daemon off, master_process off) with
// every path (config, pid, logs, temp dirs) inside its own temporary directory, and is stopped
// (SIGTERM, then SIGKILL after a bounded wait) when the object goes away.
//
// Listeners: an HTTPS port speaking HTTP/2 and HTTP/1.1 (ALPN) with a fresh self-signed P-256
// certificate for localhost/127.0.0.1 (ca_file() is that certificate), and optionally plain
// HTTP/1.1 ports and an h2c (HTTP/2 prior knowledge) port. Every listener serves files from
// `root`; /upload/ accepts PUT and DELETE (nginx's dav module) into root/upload/.
// The access log (access_log()) has one line per request:
//   <connection-serial> <connection-requests> <server-port> "<request line>" <status>
//   <body-bytes-sent> "<authorization>" "<cookie>"
// so tests can count connections and check which credentials reached which origin.
//
// Ports are found by binding port 0 and releasing it, so another process may grab one in
// between; start() retries a few times when nginx fails to bind. Throws std::runtime_error on
// failure (tests only).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace xfer::test {

struct NginxOptions {
  std::filesystem::path root;      // document root (required; created if missing)
  std::size_t plain_http1_ports = 1;
  bool h2c_port = false;
  // Raw nginx directives added inside every server block (e.g. extra `location` blocks).
  // In both extra_* strings, @TLS_PORT@, @H2C_PORT@ and @PLAIN_PORT_<i>@ become the chosen ports.
  std::string extra_server_config;
  // Raw nginx directives added at http level (e.g. tuning for benchmarks).
  std::string extra_http_config;
};

class NginxProcess {
 public:
  static std::unique_ptr<NginxProcess> start(const NginxOptions& options);
  ~NginxProcess();
  NginxProcess(const NginxProcess&) = delete;
  NginxProcess& operator=(const NginxProcess&) = delete;

  std::uint16_t tls_port() const { return tls_port_; }
  std::uint16_t plain_port(std::size_t index = 0) const { return plain_ports_.at(index); }
  std::uint16_t h2c_port() const { return h2c_port_; }

  // "https://127.0.0.1:<tls_port>" / "http://127.0.0.1:<plain_port>" / h2c, no trailing slash.
  std::string https_origin() const;
  std::string http_origin(std::size_t index = 0) const;
  std::string h2c_origin() const;

  const std::filesystem::path& ca_file() const { return cert_file_; }
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path access_log() const { return dir_ / "access.log"; }
  std::filesystem::path error_log() const { return dir_ / "error.log"; }
  pid_t pid() const { return pid_; }

  // Lines of the access log as they are now (nginx writes each line when a request ends).
  std::vector<std::string> access_log_lines() const;
  // Waits (bounded by `timeout`) until the access log has at least `count` lines: nginx logs a
  // request after its last byte was sent, which can be just after the client saw it.
  std::vector<std::string> wait_for_access_log(std::size_t count,
                                               std::chrono::milliseconds timeout =
                                                   std::chrono::seconds(5)) const;

 private:
  NginxProcess() = default;
  void write_config(const NginxOptions& options) const;
  std::string expand_ports(std::string text) const;
  bool launch_and_wait_ready();
  void stop();

  std::filesystem::path dir_;
  std::filesystem::path root_;
  std::filesystem::path cert_file_;
  std::filesystem::path key_file_;
  std::uint16_t tls_port_ = 0;
  std::vector<std::uint16_t> plain_ports_;
  std::uint16_t h2c_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace xfer::test
