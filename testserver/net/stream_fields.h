// The field handling HTTP/2 and HTTP/3 request streams share: a request's header block folded
// into a Request under the header limits (32 bytes of overhead per field, RFC 9113 §6.5.2, which
// QPACK counts alike), and a response's status and fields as the name/value arrays nghttp2 and
// nghttp3 take (their nv structs have one layout: name, value, lengths, flags).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "testserver/exchange.h"
#include "testserver/net/limits.h"

namespace xts::net {

class RequestFields {
 public:
  explicit RequestFields(Request& request) : request_(request) {}
  // One field line; once over the limits nothing more is kept (the stream answers 431).
  void add(std::string_view name, std::string_view value, const TransportLimits& limits);
  bool too_large() const { return too_large_; }
  // The block is complete: fills path and query. False if the request is unusable (no method,
  // no path unless `connect_without_path` and the method is CONNECT).
  bool complete(bool connect_without_path);

 private:
  Request& request_;
  std::size_t bytes_ = 0;
  std::size_t count_ = 0;
  bool too_large_ = false;
};

// Name/value pairs whose strings own the bytes until the submit call returns (both libraries
// copy them then). `Nv` is nghttp2_nv or nghttp3_nv.
template <class Nv>
class NvList {
 public:
  void add(std::string name, std::string value) {
    storage_.push_back(std::move(name));
    storage_.push_back(std::move(value));
  }
  Nv* build() {
    nva_.clear();
    for (std::size_t i = 0; i + 1 < storage_.size(); i += 2)
      nva_.push_back({reinterpret_cast<std::uint8_t*>(storage_[i].data()),
                      reinterpret_cast<std::uint8_t*>(storage_[i + 1].data()), storage_[i].size(),
                      storage_[i + 1].size(), 0});
    return nva_.data();
  }
  std::size_t size() const { return nva_.size(); }

 private:
  std::vector<std::string> storage_;
  std::vector<Nv> nva_;
};

// The response's fields as the handlers gave them, minus what the transport owns and any value
// that would smuggle a line break.
std::vector<std::pair<std::string, std::string>> response_fields(int status, const Headers& headers);

template <class Nv>
NvList<Nv> response_nv(int status, const Headers& headers) {
  NvList<Nv> nv;
  for (auto& [name, value] : response_fields(status, headers)) nv.add(std::move(name), std::move(value));
  return nv;
}

}  // namespace xts::net
