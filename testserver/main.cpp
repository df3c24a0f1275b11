// xfer-testserver: parses the command line (names fixed by the test-server issue), builds the
// App and the transports, prints one JSON ready line on stdout, and runs until SIGTERM/SIGINT.
#include <malloc.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "testserver/app.h"
#include "testserver/net/limits.h"
#include "testserver/net/log_setup.h"
#include "testserver/net/listen_address.h"
#include "testserver/net/transport_server.h"
#include "testserver/net/udp_relay.h"
#include "testserver/server_config.h"

namespace {

struct Options {
  xts::ServerConfig config;
  xts::net::TransportLimits limits;
  std::string log_format;
  int header_timeout_ms = 10'000;
  int idle_timeout_ms = 60'000;
};

int parse(int argc, char** argv, Options& options) {
  CLI::App cli{"xfer-testserver: HTTP/1.1 + HTTP/2 + HTTP/3 file server with resumable uploads and faults"};
  auto& c = options.config;
  auto* root = cli.add_option("--root", c.root, "directory served under /files/ (required unless --udp-relay)");
  auto* data = cli.add_option("--data", c.data, "upload state directory (required unless --udp-relay)");
  cli.add_option("--listen", c.listen, "HOST:PORT for TLS (ALPN h2, http/1.1)");
  cli.add_option("--listen-plain", c.listen_plain, "HOST:PORT for HTTP/1.1 and h2c (prior knowledge)");
  auto* cert = cli.add_option("--cert", c.cert_file, "PEM certificate chain");
  auto* key = cli.add_option("--key", c.key_file, "PEM private key");
  auto* self_signed = cli.add_flag("--self-signed", c.self_signed, "generate a localhost certificate in --data");
  cert->needs(key);
  key->needs(cert);
  self_signed->excludes(cert)->excludes(key);
  cli.add_option("--fault", c.fault, "server-wide fault spec (docs/testserver.md)");
  cli.add_option("--fault-seed", c.fault_seed, "seed for chance= faults");
  cli.add_flag("--control", c.control, "enable /_control/");
  cli.add_option("--auth-token", c.auth_token, "Bearer token required for uploads and control");
  cli.add_option("--fault-token", c.fault_token,
                 "token a request needs (Xfer-Fault-Token or Bearer) to inject faults (default: --auth-token)");
  cli.add_flag("!--no-http3", c.http3, "no HTTP/3 listener (UDP at the --listen port)");
  cli.add_flag("!--no-quic-retry", c.quic_retry, "HTTP/3: accept clients without a Retry (no address validation)");
  const auto impair_check = [](const std::string& text) -> std::string {
    auto spec = xts::net::parse_impair_spec(text);
    return spec ? std::string() : spec.error();
  };
  cli.add_option("--udp-impair", c.udp_impair,
                 "impair every UDP datagram: loss=P,reorder=P,delay=MS,corrupt=P,blackhole-after=BYTES,seed=N")
      ->check(CLI::Validator(impair_check, "SPEC"));
  auto* relay = cli.add_option("--udp-relay", c.udp_relay,
                               "run as a UDP relay LISTEN=TARGET (HOST:PORT=HOST:PORT) instead of a server");
  cli.add_option("--rebind-after", c.rebind_after,
                 "--udp-relay: move a client's flow to a new source port towards TARGET after this many bytes")
      ->needs(relay);
  cli.add_option("--log", options.log_format, "log format: json or text")->check(CLI::IsMember({"json", "text"}));
  cli.add_option("--header-timeout-ms", options.header_timeout_ms,
                 "request headers (and TLS handshake) must complete within this")
      ->check(CLI::PositiveNumber);
  cli.add_option("--idle-timeout-ms", options.idle_timeout_ms, "idle connections are closed after this")
      ->check(CLI::PositiveNumber);
  try {
    cli.parse(argc, argv);
    if (relay->count() == 0) {
      if (root->count() == 0) throw CLI::RequiredError(root->get_name());
      if (data->count() == 0) throw CLI::RequiredError(data->get_name());
    }
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  c.log_json = options.log_format == "json";
  options.limits.header_timeout = std::chrono::milliseconds(options.header_timeout_ms);
  options.limits.idle_timeout = std::chrono::milliseconds(options.idle_timeout_ms);
  return -1;
}

// --udp-relay LISTEN=TARGET: a relay process, no file server.
int run_relay(const Options& options) {
  const auto& c = options.config;
  const auto eq = c.udp_relay.find('=');
  if (eq == std::string::npos) {
    spdlog::error("--udp-relay: expected LISTEN=TARGET, e.g. 127.0.0.1:0=127.0.0.1:4433");
    return 2;
  }
  auto listen = xts::net::parse_listen_address(c.udp_relay.substr(0, eq));
  auto target = xts::net::parse_listen_address(c.udp_relay.substr(eq + 1));
  if (!listen || !target || target->port() == 0) {
    spdlog::error("--udp-relay {}: {}", c.udp_relay,
                  !listen ? listen.error() : !target ? target.error() : std::string("the target needs a port"));
    return 2;
  }
  xts::net::UdpRelay::Options relay_options;
  relay_options.rebind_after = c.rebind_after;
  if (!c.udp_impair.empty()) {
    auto spec = xts::net::parse_impair_spec(c.udp_impair);
    if (!spec) {
      spdlog::error("--udp-impair: {}", spec.error());
      return 2;
    }
    if (spec->active()) relay_options.impair = *spec;
  }
  boost::asio::io_context io(1);
  auto relay = xts::net::UdpRelay::open(io, {listen->address(), listen->port()}, {target->address(), target->port()},
                                        relay_options);
  if (!relay) {
    spdlog::error("cannot start: {}", relay.error());
    return 1;
  }
  (*relay)->start();
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signo);
    (*relay)->stop();
    io.stop();
  });
  nlohmann::ordered_json ready{{"ready", true}, {"relay_port", (*relay)->port()}};
  std::printf("%s\n", ready.dump().c_str());
  std::fflush(stdout);
  spdlog::info("ready: {} (relay to {})", ready.dump(), c.udp_relay.substr(eq + 1));
  io.run();
  spdlog::info("{}", (*relay)->summary());
  if (xts::net::impair_counters().enabled) spdlog::info("{}", xts::net::impair_counters().summary());
  relay->reset();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Response and upload buffers are 256 KiB - 2 MiB and short-lived: keep them on the heap and
  // keep freed memory mapped, instead of an mmap/munmap (and page faults) per body chunk.
  // After a burst (peers gone, buffers released) net::MemoryTrimmer hands it back.
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  // HTTP/2 over TLS lets OpenSSL write to the socket itself (write(2), not send with
  // MSG_NOSIGNAL): a peer that vanished must give EPIPE, not kill the server.
  std::signal(SIGPIPE, SIG_IGN);
  Options options;
  if (const int rc = parse(argc, argv, options); rc >= 0) return rc;
  xts::net::setup_logging(options.config.log_json);
  const auto& config = options.config;
  if (!config.udp_relay.empty()) return run_relay(options);

  std::error_code fs_error;
  std::filesystem::create_directories(config.data, fs_error);
  if (fs_error) {
    spdlog::error("--data {}: {}", config.data, fs_error.message());
    return 1;
  }

  // The App outlives the io_context's handlers only if it is destroyed after they are: it is
  // declared first, and reset explicitly once the loop has drained.
  std::unique_ptr<xts::App> app;
  boost::asio::io_context io(1);
  auto created = xts::App::create(config, io);
  if (!created) {
    spdlog::error("cannot start: {}", created.error());
    return 1;
  }
  app = std::move(*created);

  auto server = xts::net::TransportServer::open(
      io, config, options.limits,
      [app = app.get()](std::shared_ptr<xts::Exchange> exchange) { app->handle(std::move(exchange)); });
  if (!server) {
    spdlog::error("cannot start: {}", server.error());
    app.reset();  // before the io_context its timers belong to (declared after it) goes
    return 1;
  }
  auto& transport = **server;
  transport.start();

  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  bool stopping = false;
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signo);
    stopping = true;
    transport.stop();
    io.stop();
  });

  using Json = nlohmann::ordered_json;
  Json ready{{"ready", true}};
  ready["tls_port"] = transport.tls_port() ? Json(*transport.tls_port()) : Json(nullptr);
  ready["plain_port"] = transport.plain_port() ? Json(*transport.plain_port()) : Json(nullptr);
  ready["h3_port"] = transport.h3_port() ? Json(*transport.h3_port()) : Json(nullptr);
  ready["cert"] = transport.cert_file().empty() ? Json(nullptr) : Json(transport.cert_file());
  std::printf("%s\n", ready.dump().c_str());
  std::fflush(stdout);
  spdlog::info("ready: {}", ready.dump());

  // Last line of defence: a handler that throws costs its request, never the server (the
  // known throwers — JSON encoding — are caught where they are called).
  for (;;) {
    try {
      io.run();
      break;
    } catch (const std::exception& e) {
      spdlog::error("a handler threw, serving on: {}", e.what());
    }
  }
  if (stopping) {
    // Let GOAWAYs and cancelled operations complete, bounded, before tearing down.
    io.restart();
    io.run_for(std::chrono::milliseconds(300));
  }
  if (xts::net::impair_counters().enabled) spdlog::info("{}", xts::net::impair_counters().summary());
  server->reset();
  app.reset();
  spdlog::info("stopped");
  return 0;
}
