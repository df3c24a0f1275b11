// DownloadSpec: what the embedding app asks the engine to fetch. A plain value; the engine
// journals it on enqueue, so it survives a crash of the process.
#pragma once

#include <cstdint>
#include <string>

#include <xfer/header_list.h>
#include <xfer/http_version.h>
#include <xfer/ids.h>

namespace xfer {

struct DownloadSpec {
  std::string url;
  // Final path. The bytes go to "<destination>.part" until complete and verified; only then
  // does the destination appear (atomic rename).
  std::string destination;
  // Extra request header fields, sent as given ("Authorization" etc.). They are sent only to
  // the origin of `url` (redirects to another origin do not receive them). Secret ones (see
  // is_secret_header in <xfer/credentials.h>), like a userinfo in `url`, are kept in memory
  // only, never journaled.
  HeaderList headers;
  std::int32_t priority = 0;  // higher runs first
  // "sha256:<hex>" or "sha512:<hex>"; empty for none. A mismatch fails the transfer and nothing
  // appears at the destination.
  std::string checksum;
  HttpVersion protocol = HttpVersion::Any;
  // Up to this many byte ranges in parallel, only when the size is known and large enough and
  // the single stream proves slow (EngineConfig::segment_threshold, segment_probe,
  // segment_below_rate). 1 = never segment.
  std::uint32_t segments = 1;
};

}  // namespace xfer
