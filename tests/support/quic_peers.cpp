#include "tests/support/quic_peers.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "tests/support/child_process.h"

namespace xfer::test {

TestCertificate make_certificate(const std::filesystem::path& dir, const std::string& dns_name,
                                 bool with_loopback_ip) {
  std::filesystem::create_directories(dir);
  TestCertificate c{dir / (dns_name + ".crt"), dir / (dns_name + ".key")};
  const std::string san = "subjectAltName=DNS:" + dns_name + (with_loopback_ip ? ",IP:127.0.0.1" : "");
  const auto r = run_process({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:P-256", "-nodes", "-keyout", c.key.string(), "-out",
                              c.cert.string(), "-days", "2", "-subj", "/CN=" + dns_name, "-addext", san},
                             std::chrono::seconds(30));
  if (r.exit_code != 0) throw std::runtime_error("openssl req failed: " + r.err);
  return c;
}

GtlsClientResult run_gtlsclient(const std::string& address, std::uint16_t port, const std::vector<std::string>& uris,
                                const GtlsClientOptions& options) {
  std::vector<std::string> argv{"gtlsclient", "--no-quic-dump", "--no-http-dump", "--exit-on-all-streams-close"};
  if (options.quiet) argv.push_back("-q");
  if (!options.download_dir.empty()) {
    std::filesystem::create_directories(options.download_dir);
    argv.push_back("--download=" + options.download_dir.string());
  }
  if (!options.data_file.empty()) argv.push_back("--data=" + options.data_file.string());
  if (!options.method.empty()) argv.push_back("--http-method=" + options.method);
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  argv.push_back(address);
  argv.push_back(std::to_string(port));
  argv.insert(argv.end(), uris.begin(), uris.end());
  const auto r = run_process(argv, options.timeout);
  return {r.exit_code, r.out + r.err};
}

std::uint16_t free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("no free UDP port");
  ::close(fd);
  return ntohs(addr.sin_port);
}

namespace {
// /proc/net/udp lists the port (hex) once a socket is bound to it.
bool udp_port_bound(std::uint16_t port) {
  std::ifstream in("/proc/net/udp");
  const std::string needle = fmt::format(":{:04X} ", port);
  std::string line;
  while (std::getline(in, line))
    if (line.find("0100007F" + needle) != std::string::npos) return true;
  return false;
}
}  // namespace

std::unique_ptr<GtlsServerProcess> GtlsServerProcess::start(const std::filesystem::path& htdocs,
                                                            const TestCertificate& certificate) {
  std::unique_ptr<GtlsServerProcess> server(new GtlsServerProcess());
  server->port_ = free_udp_port();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    exec_in_child({"gtlsserver", "-q", "-d", htdocs.string(), "127.0.0.1", std::to_string(server->port_),
                   certificate.key.string(), certificate.cert.string()});
  }
  server->pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!udp_port_bound(server->port_)) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) {
      server->pid_ = -1;
      throw std::runtime_error("gtlsserver exited at start (is ngtcp2-server installed? run scripts/setup)");
    }
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("gtlsserver did not bind its port");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return server;
}

GtlsServerProcess::~GtlsServerProcess() { stop_child(pid_); }

std::string GtlsServerProcess::origin() const { return "https://127.0.0.1:" + std::to_string(port_); }

}  // namespace xfer::test
