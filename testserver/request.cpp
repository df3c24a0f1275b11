#include "testserver/exchange.h"

namespace xts {

const std::string* Request::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

}  // namespace xts
