// read_small_body: collects a short request body (control requests) into a string; longer
// bodies than `limit` fail. The callback gets nullopt on error or overflow.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "testserver/exchange.h"

namespace xts {

void read_small_body(const std::shared_ptr<Exchange>& ex, std::size_t limit,
                     std::function<void(std::optional<std::string>)> done);

}  // namespace xts
