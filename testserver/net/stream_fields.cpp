#include "testserver/net/stream_fields.h"

#include "testserver/net/request_target.h"
#include "testserver/net/response_headers.h"

namespace xts::net {

void RequestFields::add(std::string_view name, std::string_view value, const TransportLimits& limits) {
  bytes_ += name.size() + value.size() + 32;
  ++count_;
  if (bytes_ > limits.max_header_bytes || count_ > limits.max_header_count) too_large_ = true;
  if (too_large_) return;
  if (!name.empty() && name.front() == ':') {
    if (name == ":method") request_.method = std::string(value);
    else if (name == ":path") request_.target = std::string(value);
    else if (name == ":authority") request_.authority = std::string(value);
    return;
  }
  if (name == "host" && request_.authority.empty()) request_.authority = std::string(value);
  if (name == "content-length") request_.content_length = parse_uint64(value);
  request_.headers.push_back({std::string(name), std::string(value)});
}

bool RequestFields::complete(bool connect_without_path) {
  if (request_.method.empty()) return false;
  if (request_.target.empty() && !(connect_without_path && request_.method == "CONNECT")) return false;
  auto split = split_request_target(request_.target);
  request_.path = std::move(split.path);
  request_.query = std::move(split.query);
  return true;
}

std::vector<std::pair<std::string, std::string>> response_fields(int status, const Headers& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back(":status", std::to_string(status));
  for (const auto& h : headers) {
    if (is_transport_owned_header(h.name)) continue;
    if (h.value.find_first_of("\r\n") != std::string::npos) continue;
    out.emplace_back(to_lower(h.name), h.value);
  }
  return out;
}

}  // namespace xts::net
