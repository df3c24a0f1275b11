// The version of the xfer library an application runs against (the project version, as in
// `find_package(xfer)` and `pkg-config --modversion xfer`).
#pragma once

#include <string_view>

namespace xfer {

std::string_view version();

}  // namespace xfer
