// A manifest entry made ready for the engine: its path resolved, the checks that need the file
// system done (an upload's source is a readable regular file, a download's directory exists),
// the batch-wide headers and protocol applied, and its identity for deduplication. The engine
// checks again when it journals the spec; these checks come first so that one bad entry is
// reported with its line and does not fail the window of entries enqueued with it.
#pragma once

#include <cstddef>
#include <string>

#include <xfer/error.h>
#include <xfer/header_list.h>
#include <xfer/http_version.h>
#include <xfer/transfer_spec.h>

#include "cli/manifest.h"

namespace xfer::cli {

struct BatchDefaults {
  HeaderList headers;  // -H: before the entry's own
  HttpVersion protocol = HttpVersion::Any;
};

// What the report says about an entry (and all that is kept of it while it runs).
struct EntryInfo {
  std::size_t line = 0;
  Direction direction = Direction::Download;
  std::string url;
  std::string path;      // absolute
  std::string checksum;  // normalized, or empty
};

struct PreparedEntry {
  EntryInfo info;
  TransferSpec spec;
  // Equal for identical entries (direction, URL, path, checksum, priority, headers).
  std::string identity;
};

// A download whose "file" ends in '/' goes into that directory, named after its URL.
Result<PreparedEntry> prepare_entry(const ManifestEntry& entry, const BatchDefaults& defaults);

// The URL as the journal keeps it: without a user:password@ (never journaled).
std::string url_without_userinfo(const std::string& url);

}  // namespace xfer::cli
