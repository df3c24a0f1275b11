#include "transfer/engine/upload_checks.h"

#include <fmt/format.h>

#include "protocols/http/digest_fields.h"
#include "protocols/upload/upload_dialect.h"

namespace xfer::engine {

std::uint32_t interop_version_for(std::uint32_t asked) {
  return asked == 0 ? static_cast<std::uint32_t>(protocols::kMaxInteropVersion) : asked;
}

Result<void> check_upload_spec(files::FileSystem& fs, const UploadSpec& spec) {
  if (spec.source.empty()) return fail(ErrorCategory::InvalidArgument, "no source file to upload");
  if (spec.protocol == UploadProtocol::Tus && !spec.checksum.empty())
    return fail(ErrorCategory::InvalidArgument,
                "tus has no field for a digest of the whole file, so a checksum cannot be "
                "checked by the server (use --protocol ietf, which sends Repr-Digest)");
  if (spec.protocol == UploadProtocol::Plain && spec.method != "PUT" && spec.method != "POST")
    return fail(ErrorCategory::InvalidArgument,
                fmt::format("a plain upload is a PUT or a POST, not '{}'", spec.method));
  const auto version = interop_version_for(spec.interop_version);
  if (!protocols::dialect_for(static_cast<int>(version)))
    return fail(ErrorCategory::InvalidArgument,
                fmt::format("interop version {} is not one xfer speaks ({} to {})", version,
                            protocols::kMinInteropVersion, protocols::kMaxInteropVersion));
  if (!spec.checksum.empty()) {
    if (auto c = protocols::parse_user_checksum(spec.checksum); !c)
      return std::unexpected(c.error());
  }
  files::PathInfo info;
  auto source = fs.open_source(spec.source, info);
  if (!source) return std::unexpected(source.error());
  return {};
}

store::UploadRecord initial_upload_record(TransferId id, const UploadSpec& spec) {
  store::UploadRecord u;
  u.transfer_id = id;
  u.protocol = spec.protocol;
  u.interop_version = interop_version_for(spec.interop_version);
  u.creation = spec.creation;
  u.chunk_size = spec.chunk_size;
  u.restart_if_source_changed = spec.restart_if_source_changed;
  u.method = spec.method.empty() ? "PUT" : spec.method;
  u.replay_non_idempotent = spec.replay_non_idempotent;
  u.source_open_ended = spec.source_grows;
  return u;
}

void record_source_identity(store::UploadRecord& upload, const files::PathInfo& info) {
  upload.source_size = info.size;
  upload.source_mtime_ns = info.mtime_ns;
  upload.source_inode = info.identity.inode;
  upload.source_device = info.identity.device;
}

Result<void> end_growing_source(files::FileSystem& fs, const std::string& path, std::uint64_t size,
                                store::UploadRecord& upload) {
  // Its identity from now on is that of a finished file: a later change is a change.
  auto info = fs.inspect_target(path);
  if (!info) return std::unexpected(info.error());
  if (!*info) return fail(ErrorCategory::InvalidArgument, fmt::format("{} is gone", path));
  if ((*info)->size != size)
    return fail(ErrorCategory::InvalidArgument,
                fmt::format("{} has {} bytes, not the {} announced as its end", path, (*info)->size, size));
  record_source_identity(upload, **info);
  upload.source_open_ended = false;
  return {};
}

}  // namespace xfer::engine
