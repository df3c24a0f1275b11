// Translates leveldb::Status into xfer::Error in one place, so the rest of the journal never
// inspects leveldb's message text. Promises: "No space left on device"/"Disk quota exceeded"
// become DiskFull, "Read-only file system" and permission failures become LocalIo with a
// sentence saying so, corruption becomes Journal; the journal directory is always named.
#pragma once

#include <string_view>

#include <leveldb/status.h>
#include <xfer/error.h>

namespace xfer::store {

Error error_from_leveldb(const leveldb::Status& status, std::string_view what, std::string_view directory);

}  // namespace xfer::store
