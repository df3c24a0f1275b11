#include "testserver/app/problem.h"

#include "testserver/app/http_util.h"

namespace xts {

void send_problem(const std::shared_ptr<Exchange>& ex, int status, std::string_view type,
                  std::string_view title, Headers headers, std::string_view extra_json) {
  std::string body = "{";
  if (type.find(':') != std::string_view::npos) {
    body += "\"type\":\"" + json_escape(type) + "\"";
  } else {
    body += "\"type\":\"about:blank\",\"code\":\"" + json_escape(type) + "\"";
  }
  body += ",\"title\":\"" + json_escape(title) + "\",\"status\":" + std::to_string(status);
  if (!extra_json.empty()) {
    body += ",";
    body += extra_json;
  }
  body += "}\n";
  respond(ex, status, std::move(headers), std::move(body), "application/problem+json");
}

}  // namespace xts
