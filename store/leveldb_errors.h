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

// Whether the status says leveldb's files are damaged (not that the disk or the system
// failed): a corruption, or a read past the end of a table file (leveldb's mmap reader
// reports that as EINVAL), which means the table is shorter than its MANIFEST records.
bool is_damage(const leveldb::Status& status);

}  // namespace xfer::store
