// LogAudit: reads leveldb's log-format files — the write-ahead `NNNNNN.log` and the
// `MANIFEST-NNNNNN` — before leveldb recovers them, and says whether they read the way
// leveldb wrote them.
//
// Why: leveldb's log reader drops what it cannot read. paranoid_checks turns a checksum
// mismatch into an error, but a record header that is zero, or whose length runs past the end
// of the file's last block, is taken for the end of the log: the records behind it vanish
// without a word, recovery writes what is left into a table and deletes the log. (A garbage
// first block of a log shorter than 32 KiB reads as an empty log.) So the journal audits first.
//
// Promises: only the damage a crash can leave is accepted, and only at the end of a file —
// a file that ends inside its last record (a torn write: the header, the payload or a
// fragmented record is incomplete) or zeros from some point to the end (space the
// filesystem allocated but the data never reached, after a power cut). Anything else (a
// checksum mismatch, an impossible length or type, a zeroed header with data behind it, a
// fragment out of order, a write batch that does not parse, a gap in leveldb's sequence
// numbers inside one log) is reported as damage with its byte offset. Nothing is modified.
// Memory: one 32 KiB block plus the largest record.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <xfer/error.h>

namespace leveldb {
class Env;
}

namespace xfer::store {

struct LogAudit {
  std::uint64_t file_size = 0;
  std::uint64_t records = 0;     // complete logical records
  std::uint64_t tail_bytes = 0;  // bytes after the last complete record: a torn write or zero fill
  std::string damage;            // empty when the file reads like leveldb wrote it
};

// Called for every complete logical record with its file offset; returns a description of
// what is wrong with it, or an empty string.
using LogRecordCheck = std::function<std::string(std::string_view record, std::uint64_t offset)>;

// Framing only (checksums, lengths, types, fragment order). Errors are I/O failures reading
// the file; damage is reported in LogAudit::damage.
Result<LogAudit> audit_log_file(leveldb::Env& env, const std::string& path, const LogRecordCheck& check);

// A write-ahead log: framing, then each record as a leveldb WriteBatch (header, count,
// well-formed puts and deletes, sequence numbers contiguous from one batch to the next).
// `on_put` sees every put of every batch, in log order.
using LogPutVisitor = std::function<std::string(std::string_view key, std::string_view value)>;
Result<LogAudit> audit_write_ahead_log(leveldb::Env& env, const std::string& path, const LogPutVisitor& on_put);

}  // namespace xfer::store
