// The application behind the transports: routes each Exchange to files, uploads or control,
// after applying the request's faults (status answers here; byte-stream faults through the
// FaultExchange decorator, so they work the same on every transport).
#include "testserver/app.h"

#include <map>

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "testserver/app/blocking_pool.h"
#include "testserver/app/control_handler.h"
#include "testserver/app/fault_engine.h"
#include "testserver/app/fault_exchange.h"
#include "testserver/app/file_handler.h"
#include "testserver/app/http_util.h"
#include "testserver/app/path_guard.h"
#include "testserver/app/problem.h"
#include "testserver/app/upload_handler.h"
#include "testserver/app/upload_store.h"

namespace xts {

namespace {

constexpr auto kExpiryInterval = std::chrono::seconds(1);

class AppImpl final : public App {
 public:
  AppImpl(const ServerConfig& config, boost::asio::io_context& io, PathGuard root,
          std::unique_ptr<UploadStore> store, std::vector<FaultItem> faults)
      : config_(config),
        store_(std::move(store)),
        pool_(2),
        faults_(std::move(faults), config.fault_seed),
        files_(std::make_shared<FileHandler>(root, pool_, faults_)),
        uploads_(std::make_shared<UploadHandler>(*store_, pool_, faults_)),
        control_(faults_, uploads_, requests_by_protocol_),
        expiry_timer_(io) {
    schedule_expiry();
  }

  ~AppImpl() override { expiry_timer_.cancel(); }

  void handle(std::shared_ptr<Exchange> ex) override {
    const auto& req = ex->request();
    const std::string_view path = req.path;
    if (path.starts_with("/_control/")) {
      if (!config_.control) return send_problem(ex, 404, "not-found", "Control is off (start with --control).");
      if (!control_authorized(req)) return unauthorized(ex);
      return control_.handle(ex, path.substr(10));
    }
    ++requests_by_protocol_[req.protocol];
    // A fault can kill the process (crash-after) or hold a connection (stall, throttle): with
    // a token configured, only its holders may ask for one. Checked before plan_for, so a
    // refused request does not use up `times` counters or draws of the random source.
    if (FaultEngine::has_request_faults(req) && !fault_authorized(req)) {
      return send_problem(ex, 401, "fault-token-required",
                          "Request faults need the fault token (Xfer-Fault-Token or Authorization: Bearer).",
                          {{"www-authenticate", "Bearer realm=\"xfer-testserver faults\""}});
    }
    auto plan = faults_.plan_for(req);
    if (!plan) return send_problem(ex, 400, "bad-fault-spec", plan.error());
    if (plan->status) {
      Headers h;
      if (plan->status->retry_after) h.push_back({"retry-after", std::to_string(*plan->status->retry_after)});
      faults_.record("status", req, fmt::format("\"status\":{}", plan->status->value));
      return respond(ex, static_cast<int>(plan->status->value), std::move(h), "injected fault\n");
    }
    if (plan->needs_decorator()) ex = std::make_shared<FaultExchange>(ex, *plan, faults_);

    const auto& m = req.method;
    if (path.starts_with("/files/")) {
      const auto rel = path.substr(7);
      if (m == "GET" || m == "HEAD") return files_->handle(ex, rel, *plan);
      if (m == "OPTIONS") return uploads_->options(ex);
      if (m == "PUT" || m == "POST") {
        if (!authorized(req)) return unauthorized(ex);
        return uploads_->create(ex, std::string(rel), *plan);
      }
      return respond(ex, 405, {{"allow", "GET, HEAD, PUT, POST, OPTIONS"}}, "method not allowed\n");
    }
    if (path == "/uploads" || path == "/uploads/") {
      if (m == "OPTIONS") return uploads_->options(ex);
      if (m != "POST") return respond(ex, 405, {{"allow", "POST, OPTIONS"}}, "method not allowed\n");
      if (!authorized(req)) return unauthorized(ex);
      return uploads_->create(ex, {}, *plan);
    }
    if (path.starts_with("/uploads/")) {
      const auto id = path.substr(9);
      if (m != "OPTIONS" && !authorized(req)) return unauthorized(ex);
      if (id.empty() || id.find('/') != std::string_view::npos) return send_problem(ex, 404, "no-such-upload", "No such upload.");
      return uploads_->resource(ex, std::string(id), *plan);
    }
    if (m == "OPTIONS" && (path == "*" || req.target == "*")) return uploads_->options(ex);
    send_problem(ex, 404, "not-found", "No such resource.");
  }

 private:
  // Constant time in the content: the token is a secret.
  static bool header_is(const Request& req, std::string_view name, const std::string& expected) {
    const auto* h = req.header(name);
    if (h == nullptr || h->size() != expected.size()) return false;
    unsigned diff = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) diff |= static_cast<unsigned char>((*h)[i] ^ expected[i]);
    return diff == 0;
  }
  static bool bearer_is(const Request& req, const std::string& token) {
    return header_is(req, "authorization", "Bearer " + token);
  }

  bool authorized(const Request& req) const {
    return config_.auth_token.empty() || bearer_is(req, config_.auth_token);
  }

  // --fault-token, or else --auth-token, or nothing (then anyone may ask for faults).
  const std::string& fault_token() const {
    return config_.fault_token.empty() ? config_.auth_token : config_.fault_token;
  }
  bool fault_authorized(const Request& req) const {
    const auto& token = fault_token();
    return token.empty() || header_is(req, "xfer-fault-token", token) || bearer_is(req, token);
  }

  // /_control/ sets faults for every request: the auth token or the fault token opens it.
  bool control_authorized(const Request& req) const {
    if (config_.auth_token.empty() && config_.fault_token.empty()) return true;
    return (!config_.auth_token.empty() && bearer_is(req, config_.auth_token)) ||
           (!config_.fault_token.empty() && fault_authorized(req));
  }

  static void unauthorized(const std::shared_ptr<Exchange>& ex) {
    send_problem(ex, 401, "unauthorized", "A valid bearer token is required.",
                 {{"www-authenticate", "Bearer realm=\"xfer-testserver\""}});
  }

  void schedule_expiry() {
    expiry_timer_.expires_after(kExpiryInterval);
    expiry_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      uploads_->expire_now(expiry_timer_.get_executor());
      schedule_expiry();
    });
  }

  ServerConfig config_;
  std::unique_ptr<UploadStore> store_;  // outlives pool_ (members die in reverse order)
  BlockingPool pool_;
  FaultEngine faults_;
  std::shared_ptr<FileHandler> files_;
  std::shared_ptr<UploadHandler> uploads_;
  std::map<std::string, std::uint64_t> requests_by_protocol_;  // before control_, which reads it
  ControlHandler control_;
  boost::asio::steady_timer expiry_timer_;
};

bool ensure_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) {
    struct stat st{};
    return ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  return false;
}

}  // namespace

std::expected<std::unique_ptr<App>, std::string> App::create(const ServerConfig& config,
                                                             boost::asio::io_context& io) {
  if (config.root.empty()) return std::unexpected("--root is required");
  if (config.data.empty()) return std::unexpected("--data is required");
  for (const auto* dir : {&config.root, &config.data}) {
    if (!ensure_dir(*dir)) return std::unexpected(fmt::format("cannot use directory {}: {}", *dir, std::strerror(errno)));
  }
  auto root = PathGuard::create(config.root);
  if (!root) return std::unexpected("cannot resolve --root " + config.root);
  auto faults = parse_fault_spec(config.fault);
  if (!faults) return std::unexpected("--fault: " + faults.error());
  auto store = UploadStore::open(config.data, *root);
  if (!store) return std::unexpected(store.error());
  return std::make_unique<AppImpl>(config, io, std::move(*root), std::move(*store), std::move(*faults));
}

}  // namespace xts
