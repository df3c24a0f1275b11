// ".part" files nothing owns: left behind when a journal was moved aside or deleted (after a
// corruption report, say), or by a tool other than xfer. They are found in the directories the
// journal has written into (plus any the user names) and reported, never removed silently:
// `xfer parts --remove` deletes them.
#pragma once

#include <string>
#include <vector>

#include <xfer/engine.h>

namespace xfer::cli {

// Every "*.part" regular file in the directories of the journal's transfers and in
// `extra_dirs` that no transfer owns (owners: every transfer not completed or cancelled,
// failed ones included, which may keep theirs for a resume), sorted.
Result<std::vector<std::string>> find_orphan_parts(Engine& engine,
                                                   const std::vector<std::string>& extra_dirs);

}  // namespace xfer::cli
