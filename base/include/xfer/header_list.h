// Header fields as an ordered list of (name, value): requests send them as given, in order;
// responses hold lower-case names.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace xfer {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

}  // namespace xfer
