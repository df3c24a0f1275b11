#include <xfer/version.h>

namespace xfer {

std::string_view version() { return XFER_VERSION; }

}  // namespace xfer
