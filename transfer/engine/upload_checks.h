// What Engine::enqueue checks of an UploadSpec before anything is journaled (a refused spec
// queues nothing), and the upload record it journals with the transfer.
#pragma once

#include <xfer/error.h>
#include <xfer/upload_spec.h>

#include "store/records.h"
#include "transfer/files/file_system.h"

namespace xfer::engine {

// The interop version a spec asks for: 0 means the newest.
std::uint32_t interop_version_for(std::uint32_t asked);

// The source is a readable regular file; the protocol, interop version, method and checksum
// are ones xfer can honour. InvalidArgument (or LocalIo for an unreadable source) otherwise.
Result<void> check_upload_spec(files::FileSystem& fs, const UploadSpec& spec);

// The source's identity is recorded when the first attempt opens it, not here: between the
// enqueue and that moment the file may still be written by whoever queued it.
store::UploadRecord initial_upload_record(TransferId id, const UploadSpec& spec);

// Records `info` as the source's identity (size, mtime, inode, device).
void record_source_identity(store::UploadRecord& upload, const files::PathInfo& info);

// A growing source announced as ended at `size`: the file must have exactly that many bytes.
// On success the record holds the finished file's identity and is no longer open-ended.
Result<void> end_growing_source(files::FileSystem& fs, const std::string& path, std::uint64_t size,
                                store::UploadRecord& upload);

}  // namespace xfer::engine
