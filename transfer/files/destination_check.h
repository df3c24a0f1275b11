// Checks a download's destination before any byte moves (and again before the rename), so a
// careless path fails at once with the right error instead of after the whole download, and
// nothing that is not a regular file is ever replaced by the rename (`-o /dev/null` must not
// turn /dev/null into a regular file).
//
// Accepted: an absent path whose nearest existing ancestor is a directory this process can
// write in, an existing regular file, or a symlink to one (the rename replaces the link, it
// never writes through it). Refused: empty paths and paths ending in '/', directories, devices,
// FIFOs, sockets, a parent that is not a directory, an unwritable directory, and a part file
// ("<destination>.part") that is a symlink or otherwise not a regular file.
#pragma once

#include <set>
#include <string>

#include <xfer/error.h>

#include "transfer/files/file_system.h"

namespace xfer::files {

// `checked_parents`, when given, remembers directories already found writable, so a batch of
// thousands of files in one directory walks its parents once, not once per file.
Result<void> check_destination(FileSystem& fs, const std::string& destination,
                               std::set<std::string>* checked_parents = nullptr);

// The same without the look at the part file, for callers that open or inspect it themselves
// right after (each lookup in a directory of thousands of files costs).
Result<void> check_destination_path(FileSystem& fs, const std::string& destination,
                                    std::set<std::string>* checked_parents = nullptr);

}  // namespace xfer::files
