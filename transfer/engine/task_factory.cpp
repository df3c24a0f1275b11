#include "transfer/engine/task_factory.h"

#include <fmt/format.h>

#include "transfer/engine/download_task.h"
#include "transfer/engine/origin.h"
#include "transfer/engine/upload_task.h"
#include "transfer/files/part_file.h"

namespace xfer::engine {

Result<std::shared_ptr<TaskCore>> make_task(TaskHost& host, store::Journal& journal,
                                            store::TransferRecord record) {
  if (record.direction == Direction::Upload) {
    auto upload = journal.get_upload(record.id);
    if (!upload) return std::unexpected(upload.error());
    if (!*upload)
      return fail(ErrorCategory::Journal,
                  fmt::format("transfer {} is an upload without an upload record", record.id));
    auto origin = journal.get_origin(origin_of(record.url));
    if (!origin) return std::unexpected(origin.error());
    return std::make_shared<UploadTask>(host, std::move(record), std::move(**upload),
                                        std::move(*origin));
  }
  auto segments = journal.segments(record.id);
  if (!segments) return std::unexpected(segments.error());
  return std::make_shared<DownloadTask>(host, std::move(record), std::move(*segments));
}

std::optional<std::string> exclusive_path(const store::TransferRecord& record) {
  if (record.direction == Direction::Upload) return std::nullopt;
  return record.local_path;
}

bool kept_for_resume(files::FileSystem& fs, store::Journal& journal,
                     const store::TransferRecord& record) {
  if (record.direction == Direction::Upload) {
    auto upload = journal.get_upload(record.id);
    return upload && *upload && !(*upload)->resource_url.empty();
  }
  return fs.exists(files::part_path(record.local_path));
}

Result<void> discard_local(files::FileSystem& fs, const store::TransferRecord& record) {
  if (record.direction == Direction::Upload) return {};
  return fs.remove(files::part_path(record.local_path));
}

}  // namespace xfer::engine
