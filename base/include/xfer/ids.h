// Identity and direction of a transfer: the same values in the public API and the journal.
#pragma once

#include <cstdint>

namespace xfer {

using TransferId = std::uint64_t;

// Journaled as its value: never renumber.
enum class Direction : std::uint8_t { Download = 0, Upload = 1 };

}  // namespace xfer
