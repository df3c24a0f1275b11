// TransferSpec: one transfer in either direction, as Engine::enqueue takes it.
#pragma once

#include <variant>

#include <xfer/download_spec.h>
#include <xfer/upload_spec.h>

namespace xfer {

using TransferSpec = std::variant<DownloadSpec, UploadSpec>;

inline Direction direction_of(const TransferSpec& spec) {
  return std::holds_alternative<UploadSpec>(spec) ? Direction::Upload : Direction::Download;
}

}  // namespace xfer
