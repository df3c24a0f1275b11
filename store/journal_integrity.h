// The journal's checks for damage on open (docs/journal.md, "Damage"): what leveldb's own
// recovery does not catch, because it drops unreadable log data instead of failing.
//
// Before leveldb recovers: every write-ahead log and the MANIFEST named by CURRENT are audited
// (store/log_audit.h), a missing CURRENT next to leveldb files is refused (leveldb would
// create an empty database over them and delete them), and the newest commit number found in
// the newest log is compared with the durable watermark (store/durable_watermark.h). Nothing
// is modified, so a refusal leaves the evidence in place.
// After it recovers: the newest commit number in the database is compared with the watermark
// (this catches a log that lost everything, or was removed), and optionally every table not
// read before is read through with leveldb's block checksums.
// Every failure is a Journal error from journal_damaged(): it names what is wrong and what the
// user can do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <xfer/error.h>

namespace leveldb {
class DB;
class Env;
}  // namespace leveldb

namespace xfer::store {

Error journal_damaged(const std::string& directory, std::string_view what);

struct BeforeRecovery {
  // The newest commit number in the newest write-ahead log, if it holds one.
  std::optional<std::uint64_t> newest_logged_commit;
  // The newest log, when it ends in a torn record: what leveldb will discard (and then delete
  // the log). Torn tails are normal after a crash, but they are also what an overwritten log
  // head looks like; the journal keeps a hard link to it until the checks after recovery pass.
  std::string torn_log;
};

// `watermark`: the last commit number reported durable, if the journal has a watermark file.
Result<BeforeRecovery> check_before_recovery(leveldb::Env& env, const std::string& directory,
                                             std::optional<std::uint64_t> watermark);

// `in_database`: the commit number leveldb recovered (0 if the key is absent).
Result<void> check_recovered_commits(const std::string& directory, std::uint64_t in_database,
                                     std::optional<std::uint64_t> watermark);

// Reads every block of every live table that this check has not read before, with leveldb's
// block checksums (a table is immutable, so one that was read whole and still has the same
// size and mtime is skipped; `xfer.verified` remembers them). O(new tables) per open.
Result<void> verify_tables(leveldb::DB& db, leveldb::Env& env, const std::string& directory);

}  // namespace xfer::store
