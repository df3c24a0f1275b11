#include "store/journal_integrity.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/table.h>
#include <sys/stat.h>

#include "store/journal_keys.h"
#include "store/leveldb_errors.h"
#include "store/log_audit.h"
#include "store/record_codec.h"

namespace xfer::store {
namespace {

// "000123.log" -> 123 when the name is digits followed by `suffix`.
std::optional<std::uint64_t> numbered(std::string_view name, std::string_view suffix) {
  if (name.size() <= suffix.size() || !name.ends_with(suffix)) return std::nullopt;
  const std::string_view digits = name.substr(0, name.size() - suffix.size());
  std::uint64_t n = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

Error journal_damaged(const std::string& directory, std::string_view what) {
  return Error(ErrorCategory::Journal,
               fmt::format("journal {} is damaged: {}. xfer does not use a damaged journal, so that no transfer "
                           "in it is silently forgotten. To start again with an empty journal, move it aside "
                           "(mv {} {}.damaged); the transfers it held are then unknown to xfer and their .part "
                           "files are left behind (docs/journal.md, \"Damage\")",
                           directory, what, directory, directory));
}

Result<BeforeRecovery> check_before_recovery(leveldb::Env& env, const std::string& directory,
                                             std::optional<std::uint64_t> watermark) {
  std::vector<std::string> names;
  if (leveldb::Status s = env.GetChildren(directory, &names); !s.ok())
    return std::unexpected(error_from_leveldb(s, "listing", directory));
  std::vector<std::pair<std::uint64_t, std::string>> logs;
  bool tables = false;
  for (const std::string& name : names) {
    if (auto n = numbered(name, ".log")) logs.emplace_back(*n, directory + "/" + name);
    if (numbered(name, ".ldb") || numbered(name, ".sst")) tables = true;
  }
  std::sort(logs.begin(), logs.end());

  const std::string current_path = directory + "/CURRENT";
  if (!env.FileExists(current_path)) {
    if (!logs.empty() || tables)
      return std::unexpected(journal_damaged(
          directory, "leveldb's CURRENT file is missing while its log and table files are there (leveldb would "
                     "start an empty database over them and delete them)"));
    if (watermark.value_or(0) > 0)
      return std::unexpected(journal_damaged(
          directory, fmt::format("leveldb's files are missing, but commit #{} was reported durable", *watermark)));
    return BeforeRecovery{};  // a new journal, or one whose creation was interrupted
  }

  // A damaged CURRENT is leveldb's to report; the MANIFEST it names is audited here because a
  // MANIFEST that silently loses its last edits makes leveldb delete the tables they added.
  std::string current;
  if (leveldb::ReadFileToString(&env, current_path, &current).ok() && current.ends_with('\n')) {
    current.pop_back();
    const std::string manifest = directory + "/" + current;
    if (current.starts_with("MANIFEST-") && current.find('/') == std::string::npos && env.FileExists(manifest)) {
      auto audit = audit_log_file(env, manifest, [](std::string_view, std::uint64_t) { return std::string(); });
      if (!audit) return std::unexpected(audit.error());
      if (!audit->damage.empty())
        return std::unexpected(journal_damaged(directory, "its leveldb MANIFEST is damaged: " + audit->damage));
    }
  }

  BeforeRecovery result;
  for (std::size_t i = 0; i < logs.size(); ++i) {
    const std::string& path = logs[i].second;
    std::optional<std::uint64_t> newest;
    auto audit = audit_write_ahead_log(env, path, [&](std::string_view key, std::string_view value) -> std::string {
      if (key != keys::kCommitCount) return {};
      auto n = decode_counter(key, value);
      if (!n) return n.error().message();
      newest = std::max(newest.value_or(0), *n);
      return {};
    });
    if (!audit) return std::unexpected(audit.error());
    if (!audit->damage.empty())
      return std::unexpected(journal_damaged(directory, "its write-ahead log is damaged: " + audit->damage));
    // Only the newest log's commits are newer than everything in the tables; an older log
    // left behind by a crash may predate data that was compacted since.
    if (i + 1 == logs.size()) {
      result.newest_logged_commit = newest;
      if (audit->tail_bytes > 0) result.torn_log = path;
    }
  }
  if (watermark && result.newest_logged_commit && *result.newest_logged_commit < *watermark)
    return std::unexpected(journal_damaged(
        directory, fmt::format("its write-ahead log {} ends at commit #{}, but commit #{} was reported durable: "
                               "the end of the log was cut off or overwritten",
                               logs.back().second, *result.newest_logged_commit, *watermark)));
  return result;
}

Result<void> check_recovered_commits(const std::string& directory, std::uint64_t in_database,
                                     std::optional<std::uint64_t> watermark) {
  if (!watermark || in_database >= *watermark) return {};
  return std::unexpected(journal_damaged(
      directory, fmt::format("its newest readable commit is #{}, but commit #{} was reported durable: leveldb's "
                             "write-ahead log was replaced, emptied, removed or overwritten, and what it held is lost",
                             in_database, *watermark)));
}

namespace {

constexpr const char* kVerifiedFileName = "xfer.verified";

struct TableStamp {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const TableStamp&) const = default;
};

// The live tables as leveldb's current version lists them ("leveldb.sstables": one
// " <number>:<size>[<smallest> .. <largest>]" line per file; keys are escaped, so a line is a file).
std::vector<std::pair<std::uint64_t, std::uint64_t>> live_tables(leveldb::DB& db) {
  std::string listing;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> tables;
  if (!db.GetProperty("leveldb.sstables", &listing)) return tables;
  std::size_t pos = 0;
  while (pos < listing.size()) {
    std::size_t end = listing.find('\n', pos);
    if (end == std::string::npos) end = listing.size();
    const std::string_view line(listing.data() + pos, end - pos);
    pos = end + 1;
    std::uint64_t number = 0, size = 0;
    if (std::sscanf(std::string(line.substr(0, 48)).c_str(), " %" SCNu64 ":%" SCNu64 "[", &number, &size) == 2 &&
        line.starts_with(' '))
      tables.emplace_back(number, size);
  }
  return tables;
}

std::map<std::uint64_t, TableStamp> read_verified(const std::string& directory) {
  std::map<std::uint64_t, TableStamp> verified;
  std::ifstream in(directory + "/" + kVerifiedFileName);
  std::uint64_t number = 0;
  TableStamp stamp;
  while (in >> number >> stamp.size >> stamp.mtime_ns) verified[number] = stamp;
  return verified;
}

// Not synced: losing it only means reading the tables through once more.
void write_verified(const std::string& directory, const std::map<std::uint64_t, TableStamp>& verified) {
  const std::string path = directory + "/" + kVerifiedFileName;
  {
    std::ofstream out(path + ".tmp", std::ios::trunc);
    for (const auto& [number, stamp] : verified) out << number << ' ' << stamp.size << ' ' << stamp.mtime_ns << '\n';
    if (!out) return;
  }
  std::error_code ec;
  std::filesystem::rename(path + ".tmp", path, ec);
}

std::optional<TableStamp> stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return TableStamp{static_cast<std::uint64_t>(st.st_size),
                    static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

// Every block of one table, with its checksum; NotFound when compaction removed it meanwhile.
leveldb::Status verify_table(leveldb::Env& env, const std::string& path, std::uint64_t size) {
  leveldb::RandomAccessFile* raw = nullptr;
  leveldb::Status s = env.NewRandomAccessFile(path, &raw);
  if (!s.ok()) return s;
  std::unique_ptr<leveldb::RandomAccessFile> file(raw);
  leveldb::Options options;
  options.env = &env;
  options.paranoid_checks = true;  // also checks the index block on open
  leveldb::Table* table = nullptr;
  s = leveldb::Table::Open(options, file.get(), size, &table);
  if (!s.ok()) return s;
  std::unique_ptr<leveldb::Table> owner(table);
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(table->NewIterator(ro));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
  }
  return it->status();
}

}  // namespace

Result<void> verify_tables(leveldb::DB& db, leveldb::Env& env, const std::string& directory) {
  const auto verified = read_verified(directory);
  std::map<std::uint64_t, TableStamp> still_live;
  for (const auto& [number, size] : live_tables(db)) {
    std::string path = fmt::format("{}/{:06}.ldb", directory, number);
    if (!env.FileExists(path)) path = fmt::format("{}/{:06}.sst", directory, number);  // leveldb < 1.14
    const std::optional<TableStamp> stamp = stamp_of(path);
    if (!stamp) continue;  // compacted away since the listing; leveldb checks the live set itself
    if (auto it = verified.find(number); it != verified.end() && it->second == *stamp) {
      still_live[number] = *stamp;
      continue;
    }
    const leveldb::Status s = verify_table(env, path, size);
    if (s.IsNotFound()) continue;
    if (!s.ok()) {
      if (!is_damage(s)) return std::unexpected(error_from_leveldb(s, "reading " + path, directory));
      return std::unexpected(journal_damaged(directory, fmt::format("its table {} is damaged: leveldb reports {}",
                                                                    path, s.ToString())));
    }
    still_live[number] = *stamp;
  }
  if (still_live != verified) write_verified(directory, still_live);
  return {};
}

}  // namespace xfer::store
