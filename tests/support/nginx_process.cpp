#include "tests/support/nginx_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fmt/format.h>

extern char** environ;

namespace xfer::test {
namespace {

namespace fs = std::filesystem;

fs::path make_temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "xfer-nginx-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

pid_t spawn(const std::vector<std::string>& args, bool quiet) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) {
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  }
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(fmt::format("cannot spawn {}: error {}", args[0], rc));
  return pid;
}

void run_checked(const std::vector<std::string>& args) {
  const pid_t pid = spawn(args, true);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(fmt::format("{} failed (status {})", args[0], status));
  }
}

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind(127.0.0.1:0) failed");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool accepts_connections(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::unique_ptr<NginxProcess> NginxProcess::start(const NginxOptions& options) {
  if (options.root.empty()) throw std::runtime_error("NginxOptions::root is required");
  std::unique_ptr<NginxProcess> nginx(new NginxProcess());
  nginx->dir_ = make_temp_dir();
  nginx->root_ = fs::absolute(options.root);
  fs::create_directories(nginx->root_ / "upload");
  for (const char* sub : {"body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    fs::create_directories(nginx->dir_ / "tmp" / sub);
  }
  nginx->cert_file_ = nginx->dir_ / "cert.pem";
  nginx->key_file_ = nginx->dir_ / "key.pem";
  run_checked({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
               "-nodes", "-subj", "/CN=localhost", "-addext",
               "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "1", "-keyout",
               nginx->key_file_.string(), "-out", nginx->cert_file_.string()});
  for (int attempt = 0; attempt < 5; ++attempt) {
    nginx->tls_port_ = free_port();
    nginx->plain_ports_.clear();
    for (std::size_t i = 0; i < options.plain_http1_ports; ++i) {
      nginx->plain_ports_.push_back(free_port());
    }
    nginx->h2c_port_ = options.h2c_port ? free_port() : 0;
    nginx->write_config(options);
    if (nginx->launch_and_wait_ready()) return nginx;
  }
  std::ifstream err(nginx->error_log());
  std::stringstream text;
  text << err.rdbuf();
  throw std::runtime_error("nginx did not start: " + text.str());
}

NginxProcess::~NginxProcess() {
  stop();
  if (std::getenv("XFER_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string NginxProcess::expand_ports(std::string text) const {
  auto replace_all = [&](const std::string& token, std::uint16_t port) {
    for (std::size_t at = text.find(token); at != std::string::npos; at = text.find(token, at)) {
      text.replace(at, token.size(), std::to_string(port));
    }
  };
  replace_all("@TLS_PORT@", tls_port_);
  replace_all("@H2C_PORT@", h2c_port_);
  for (std::size_t i = 0; i < plain_ports_.size(); ++i) {
    replace_all(fmt::format("@PLAIN_PORT_{}@", i), plain_ports_[i]);
  }
  return text;
}

void NginxProcess::write_config(const NginxOptions& options) const {
  const std::string server_body = fmt::format(
      "    root {root};\n"
      "    location /upload/ {{\n"
      "      dav_methods PUT DELETE;\n"
      "      create_full_put_path on;\n"
      "      dav_access user:rw group:r all:r;\n"
      "    }}\n"
      "{extra}\n",
      fmt::arg("root", root_.string()), fmt::arg("extra", expand_ports(options.extra_server_config)));
  std::string servers = fmt::format(
      "  server {{\n"
      "    listen 127.0.0.1:{} ssl http2;\n"
      "    ssl_certificate {};\n"
      "    ssl_certificate_key {};\n"
      "{}"
      "  }}\n",
      tls_port_, cert_file_.string(), key_file_.string(), server_body);
  for (const std::uint16_t port : plain_ports_) {
    servers += fmt::format("  server {{\n    listen 127.0.0.1:{};\n{}  }}\n", port, server_body);
  }
  if (h2c_port_ != 0) {
    servers += fmt::format("  server {{\n    listen 127.0.0.1:{} http2;\n{}  }}\n", h2c_port_,
                           server_body);
  }
  const fs::path tmp = dir_ / "tmp";
  std::ofstream conf(dir_ / "nginx.conf", std::ios::trunc);
  conf << fmt::format(
      "daemon off;\n"
      "master_process off;\n"
      "worker_processes 1;\n"
      "pid {dir}/nginx.pid;\n"
      "error_log {dir}/error.log info;\n"
      "events {{ worker_connections 4096; }}\n"
      "http {{\n"
      "  types {{ application/octet-stream bin; text/plain txt; }}\n"
      "  default_type application/octet-stream;\n"
      "  log_format xfer '$connection $connection_requests $server_port \"$request\" $status "
      "$body_bytes_sent \"$http_authorization\" \"$http_cookie\"';\n"
      "  access_log {dir}/access.log xfer;\n"
      "  client_body_temp_path {tmp}/body;\n"
      "  proxy_temp_path {tmp}/proxy;\n"
      "  fastcgi_temp_path {tmp}/fastcgi;\n"
      "  uwsgi_temp_path {tmp}/uwsgi;\n"
      "  scgi_temp_path {tmp}/scgi;\n"
      "  client_max_body_size 0;\n"
      "  sendfile on;\n"
      "  keepalive_requests 100000;\n"
      "  http2_max_concurrent_streams 128;\n"
      "{extra}\n"
      "{servers}"
      "}}\n",
      fmt::arg("dir", dir_.string()), fmt::arg("tmp", tmp.string()),
      fmt::arg("extra", expand_ports(options.extra_http_config)), fmt::arg("servers", servers));
  if (!conf) throw std::runtime_error("cannot write nginx.conf");
}

bool NginxProcess::launch_and_wait_ready() {
  pid_ = spawn({"nginx", "-e", error_log().string(), "-p", dir_.string(), "-c",
                (dir_ / "nginx.conf").string()},
               true);
  std::vector<std::uint16_t> ports = plain_ports_;
  ports.push_back(tls_port_);
  if (h2c_port_ != 0) ports.push_back(h2c_port_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // exited: most likely a port was taken in between; caller retries
      return false;
    }
    bool all = true;
    for (const std::uint16_t port : ports) all = all && accepts_connections(port);
    if (all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();
  return false;
}

void NginxProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string NginxProcess::https_origin() const {
  return fmt::format("https://127.0.0.1:{}", tls_port_);
}

std::string NginxProcess::http_origin(std::size_t index) const {
  return fmt::format("http://127.0.0.1:{}", plain_port(index));
}

std::string NginxProcess::h2c_origin() const {
  return fmt::format("http://127.0.0.1:{}", h2c_port_);
}

std::vector<std::string> NginxProcess::access_log_lines() const {
  std::vector<std::string> lines;
  std::ifstream in(access_log());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace xfer::test

namespace xfer::test {

std::vector<std::string> NginxProcess::wait_for_access_log(std::size_t count,
                                                           std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> lines = access_log_lines();
  while (lines.size() < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    lines = access_log_lines();
  }
  return lines;
}

}  // namespace xfer::test
