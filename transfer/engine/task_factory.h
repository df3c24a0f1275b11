// The one place that knows which task carries which direction, and what each direction leaves
// on the local disk. EngineCore asks here instead of naming DownloadTask or ".part" files.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <xfer/error.h>

#include "store/journal.h"
#include "transfer/engine/task_core.h"
#include "transfer/files/file_system.h"

namespace xfer::engine {

// The task for a journaled transfer, with what the journal keeps for its direction.
Result<std::shared_ptr<TaskCore>> make_task(TaskHost& host, store::Journal& journal,
                                            store::TransferRecord record);

// A local path no two active transfers may share (a download's destination and its .part);
// nullopt when the direction writes nothing locally (uploads only read their source).
std::optional<std::string> exclusive_path(const store::TransferRecord& record);

// Whether a failed transfer kept something a resume() can continue from.
bool kept_for_resume(files::FileSystem& fs, store::Journal& journal,
                     const store::TransferRecord& record);

// Removes what a transfer that is not running left locally (a cancel without a task).
Result<void> discard_local(files::FileSystem& fs, const store::TransferRecord& record);

}  // namespace xfer::engine
