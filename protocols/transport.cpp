#include "protocols/transport.h"

namespace xfer::protocols {

const std::string* ResponseHeaders::find(std::string_view name) const {
  for (const auto& [field, value] : fields) {
    if (field == name) return &value;
  }
  return nullptr;
}

}  // namespace xfer::protocols
