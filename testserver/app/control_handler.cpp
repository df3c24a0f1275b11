#include "testserver/app/control_handler.h"

#include <fmt/format.h>

#include "testserver/app/body_reader.h"
#include "testserver/app/http_util.h"
#include "testserver/app/problem.h"
#include "testserver/app/structured_fields.h"
#include "testserver/net/udp_impair.h"

namespace xts {

namespace {
constexpr std::size_t kMaxControlBody = 64 * 1024;

std::string limits_json(const UploadLimits& l) {
  std::string out = fmt::format("{{\"max-size\":{},\"min-size\":{},\"max-age\":{}", l.max_size, l.min_size, l.max_age);
  if (l.max_append_size) out += fmt::format(",\"max-append-size\":{}", *l.max_append_size);
  if (l.min_append_size) out += fmt::format(",\"min-append-size\":{}", *l.min_append_size);
  return out + "}\n";
}
}  // namespace

void ControlHandler::handle(const std::shared_ptr<Exchange>& ex, std::string_view sub) {
  const auto& method = ex->request().method;
  if (sub == "faults") {
    if (method == "GET") {
      respond(ex, 200, {}, faults_.control_text() + "\n");
    } else if (method == "DELETE") {
      faults_.clear_control();
      respond(ex, 204, {});
    } else if (method == "POST" || method == "PUT") {
      read_small_body(ex, kMaxControlBody, [this, ex](std::optional<std::string> body) {
        if (!body) return send_problem(ex, 400, "bad-body", "Could not read the body.");
        auto items = parse_fault_spec(*body);
        if (!items) return send_problem(ex, 400, "bad-fault-spec", items.error());
        faults_.set_control(std::move(*items));
        respond(ex, 200, {}, faults_.control_text() + "\n");
      });
    } else {
      respond(ex, 405, {{"allow", "GET, POST, PUT, DELETE"}}, "method not allowed\n");
    }
    return;
  }
  if (sub == "log") {
    if (method != "GET" && method != "HEAD") return respond(ex, 405, {{"allow", "GET"}}, "method not allowed\n");
    respond(ex, 200, {}, faults_.log_json(), "application/json");
    return;
  }
  if (sub == "stats") {
    if (method != "GET" && method != "HEAD") return respond(ex, 405, {{"allow", "GET"}}, "method not allowed\n");
    std::string body = "{\"requests\":{";
    for (const auto& [protocol, n] : requests_)
      body += fmt::format("{}\"{}\":{}", body.back() == '{' ? "" : ",", protocol, n);
    body += "}";
    // Only when --udp-impair is on: what the impairment did so far.
    if (net::impair_counters().enabled) body += ",\"udp\":" + net::impair_counters().json();
    respond(ex, 200, {}, body + "}\n", "application/json");
    return;
  }
  if (sub == "limits") {
    if (method == "GET") return respond(ex, 200, {}, limits_json(uploads_->default_limits()), "application/json");
    if (method != "POST" && method != "PUT") return respond(ex, 405, {{"allow", "GET, POST, PUT"}}, "method not allowed\n");
    read_small_body(ex, kMaxControlBody, [this, ex](std::optional<std::string> body) {
      if (!body) return send_problem(ex, 400, "bad-body", "Could not read the body.");
      const auto dict = parse_sf_int_dictionary(*body);
      if (!dict) return send_problem(ex, 400, "bad-limits", "Expected an Upload-Limit style dictionary.");
      UploadLimits l;  // unspecified keys go back to the defaults
      for (const auto& [k, v] : *dict) {
        if (v < 0) return send_problem(ex, 400, "bad-limits", "Limits are non-negative.");
        const auto u = static_cast<std::uint64_t>(v);
        if (k == "max-size") l.max_size = u;
        else if (k == "min-size") l.min_size = u;
        else if (k == "max-append-size") l.max_append_size = u;
        else if (k == "min-append-size") l.min_append_size = u;
        else if (k == "max-age" || k == "expires") l.max_age = u;
        else return send_problem(ex, 400, "bad-limits", "Unknown limit " + k);
      }
      uploads_->set_default_limits(l);
      respond(ex, 200, {}, limits_json(l), "application/json");
    });
    return;
  }
  if (sub == "expire") {
    if (method != "POST") return respond(ex, 405, {{"allow", "POST"}}, "method not allowed\n");
    uploads_->expire_now(ex->executor(), [ex](std::size_t n) {
      respond(ex, 200, {}, fmt::format("{{\"expired\":{}}}\n", n), "application/json");
    });
    return;
  }
  send_problem(ex, 404, "not-found", "No such control endpoint.");
}

}  // namespace xts
