// UploadSpec: what the embedding app asks the engine to send. A plain value; the engine
// journals it on enqueue, so it survives a crash of the process.
#pragma once

#include <cstdint>
#include <string>

#include <xfer/header_list.h>
#include <xfer/http_version.h>
#include <xfer/upload_protocol.h>

namespace xfer {

struct UploadSpec {
  // The local file sent. Its size, modification time and inode are journaled at the start: a
  // source that changed afterwards is never resumed onto the old upload.
  std::string source;
  // Ietf and Tus: the creation target (the server names the upload resource). Plain: the
  // resource the bytes are PUT (or POSTed) to.
  std::string url;
  UploadProtocol protocol = UploadProtocol::Ietf;
  // IETF draft interop version, 3 to 10; 0 = the newest (10).
  std::uint32_t interop_version = 0;
  UploadCreation creation = UploadCreation::Auto;
  // Extra request header fields, on every request of the upload (secret ones are kept in
  // memory only, as for downloads; see <xfer/credentials.h>).
  HeaderList headers;
  std::int32_t priority = 0;  // higher runs first
  // "sha256:<hex>" or "sha512:<hex>"; empty for none. Sent as Repr-Digest (RFC 9530) on the
  // request that completes the upload, so the server can refuse bytes that are not these.
  std::string checksum;
  // Largest append in bytes (0 = as large as the server allows). Smaller appends mean less to
  // send again after a failure the server did not acknowledge, and more requests.
  std::uint64_t chunk_size = 0;
  HttpVersion protocol_version = HttpVersion::Any;
  // A source that changed since the upload began starts a new upload instead of failing.
  bool restart_if_source_changed = false;
  // Plain uploads: the method ("PUT" unless "POST"), and whether a failed attempt may send the
  // whole body again when the method is not idempotent (POST).
  std::string method = "PUT";
  bool replay_non_idempotent = false;
  // The source is still being written (a pipe spooled to a file, a recording): its length is
  // unknown, and only the bytes announced with Engine::source_grew are read. The upload sends
  // them as they come (IETF: appends with Upload-Complete: ?0 and no Upload-Length; tus: a
  // creation with Upload-Defer-Length where the server has that extension) and completes after
  // Engine::source_ended. Plain uploads, and tus servers without deferred lengths, wait for the
  // end. Announce bytes once written (a crash of the process keeps them); sync the file before
  // source_ended, because after it the upload resumes from the file even after a power loss.
  bool source_grows = false;
};

}  // namespace xfer
