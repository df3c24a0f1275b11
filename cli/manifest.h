// ManifestReader: the entries of an `xfer batch` manifest, one at a time, from a stream of any
// length (docs/cli.md, "xfer batch"). The first non-blank line decides the format: a JSON
// object means JSON Lines (one object per line), anything else must be a CSV header row naming
// the columns. Each entry is checked for its form here (direction, URL scheme, checksum,
// priority, header fields); a line that fails is an error with its line number and reading
// goes on. What needs the file system or the journal is checked later (cli/batch_entry.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <xfer/error.h>
#include <xfer/header_list.h>
#include <xfer/ids.h>

#include "cli/line_reader.h"

namespace xfer::cli {

enum class ManifestFormat { JsonLines, Csv };

struct ManifestEntry {
  std::size_t line = 0;  // where the entry starts (1-based)
  Direction direction = Direction::Download;
  std::string url;
  std::string file;      // as written: a download's destination, an upload's source
  std::string checksum;  // "sha256:<hex>" / "sha512:<hex>" (hex lower-cased), or empty
  std::int32_t priority = 0;
  HeaderList headers;
};

struct ManifestError {
  std::size_t line = 0;
  std::string reason;
};

using ManifestItem = std::variant<ManifestEntry, ManifestError>;

class ManifestReader {
 public:
  explicit ManifestReader(ByteSource& source, std::size_t max_line = LineReader::kDefaultMaxLine);

  // Reads up to the first entry or line error, so that input that is no manifest at all
  // (fatal()) is refused before anything else happens. Optional: next() does it too.
  const std::optional<Error>& start();

  // The next entry or line error; nullopt at the end of the input, or after a fatal error
  // (fatal() then says why: the input could not be read, or it is no manifest at all).
  std::optional<ManifestItem> next();

  std::optional<ManifestFormat> format() const { return format_; }
  const std::optional<Error>& fatal() const { return fatal_; }
  // Lines read so far.
  std::size_t lines() const { return lines_; }

 private:
  std::optional<ManifestItem> read_item();
  std::optional<Line> next_line();
  std::optional<ManifestItem> from_json(const Line& line);
  std::optional<ManifestItem> from_csv(const Line& first);
  bool read_csv_header(const Line& line);

  LineReader lines_reader_;
  std::optional<ManifestFormat> format_;
  std::optional<Error> fatal_;
  std::size_t lines_ = 0;
  bool started_ = false;
  std::optional<ManifestItem> pending_;
  // CSV: which field is which, by position (-1: absent).
  int col_direction_ = -1, col_url_ = -1, col_file_ = -1, col_checksum_ = -1, col_priority_ = -1;
  std::size_t columns_ = 0;
};

// The checks of one entry's form, shared by both formats (and by tests).
std::optional<std::string> check_entry_form(ManifestEntry& entry);

}  // namespace xfer::cli
