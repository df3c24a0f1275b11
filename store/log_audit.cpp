#include "store/log_audit.h"

#include <memory>
#include <vector>

#include <fmt/format.h>
#include <leveldb/env.h>

#include "store/crc32c.h"

namespace xfer::store {
namespace {

// leveldb's log format (doc/log_format.md of leveldb): 32 KiB blocks of physical records
// [masked crc32c u32][length u16][type u8][payload]; a block's last < 7 bytes are padding.
constexpr std::size_t kBlockSize = 32768;
constexpr std::size_t kHeaderSize = 7;
enum RecordType : unsigned { kZeroType = 0, kFullType = 1, kFirstType = 2, kMiddleType = 3, kLastType = 4 };
constexpr std::uint32_t kMaskDelta = 0xa282ead8u;

// A leveldb WriteBatch: [sequence u64][count u32] then count x (tag, varstring key[, varstring value]).
constexpr std::size_t kBatchHeader = 12;
constexpr unsigned char kTagDeletion = 0;
constexpr unsigned char kTagValue = 1;

std::uint32_t load_le32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::uint64_t load_le64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::uint32_t unmask(std::uint32_t masked) {
  const std::uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

bool get_varint32(std::string_view& in, std::uint32_t& v) {
  v = 0;
  for (int shift = 0; shift <= 28 && !in.empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= static_cast<std::uint32_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

bool get_varstring(std::string_view& in, std::string_view& out) {
  std::uint32_t n = 0;
  if (!get_varint32(in, n) || n > in.size()) return false;
  out = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

bool all_zero(std::string_view bytes) {
  for (char c : bytes)
    if (c != 0) return false;
  return true;
}

class Auditor {
 public:
  Auditor(leveldb::Env& env, std::string path, const LogRecordCheck& check)
      : env_(env), path_(std::move(path)), check_(check), buffer_(kBlockSize) {}

  Result<LogAudit> run() {
    leveldb::Status s = env_.GetFileSize(path_, &audit_.file_size);
    leveldb::SequentialFile* raw = nullptr;
    if (s.ok()) s = env_.NewSequentialFile(path_, &raw);
    if (!s.ok()) return io_error(s);
    file_.reset(raw);

    for (std::uint64_t block_offset = 0;; block_offset += kBlockSize) {
      leveldb::Slice block;
      if (s = file_->Read(kBlockSize, &block, buffer_.data()); !s.ok()) return io_error(s);
      if (block.empty()) break;
      const std::string_view bytes(block.data(), block.size());
      const bool full_block = bytes.size() == kBlockSize;
      for (std::size_t pos = 0; pos < bytes.size();) {
        const std::uint64_t at = block_offset + pos;
        const std::size_t left = bytes.size() - pos;
        if (left < kHeaderSize) {
          if (full_block) break;  // the padding at the end of a block
          return torn(at);        // the file ends inside a header
        }
        const char* header = bytes.data() + pos;
        const std::uint32_t length =
            static_cast<unsigned char>(header[4]) | (static_cast<std::uint32_t>(static_cast<unsigned char>(header[5])) << 8);
        const unsigned type = static_cast<unsigned char>(header[6]);
        if (type == kZeroType && length == 0) return zero_fill(bytes.substr(pos), at);
        // A writer never lets a record cross a block boundary: a longer length is damage,
        // even in the last block, where leveldb would take it for a torn write.
        if (pos + kHeaderSize + length > kBlockSize)
          return damaged(at, fmt::format("a record header whose length ({} bytes) runs past the end of its 32 KiB block",
                                         length));
        if (pos + kHeaderSize + length > bytes.size()) return torn(at);  // only possible in the last block
        if (type == kZeroType || type > kLastType) return damaged(at, fmt::format("a record of unknown type {}", type));
        const std::string_view payload = bytes.substr(pos + kHeaderSize, length);
        const char type_byte = header[6];
        const std::uint32_t actual = crc32c(payload.data(), payload.size(), crc32c(&type_byte, 1));
        if (actual != unmask(load_le32(header))) return damaged(at, "a checksum mismatch");
        if (auto r = fragment(type, payload, at); !r.empty()) return damaged(at, r);
        if (!audit_.damage.empty()) return audit_;
        pos += kHeaderSize + length;
      }
      if (!full_block) break;
    }
    if (in_fragment_) audit_.tail_bytes = audit_.file_size - record_start_;
    return audit_;
  }

 private:
  // Returns what is wrong with the fragment order, or "" (record checks report through damaged()).
  std::string fragment(unsigned type, std::string_view payload, std::uint64_t at) {
    switch (type) {
      case kFullType:
      case kFirstType:
        // leveldb tolerates an empty first fragment left by old writers; so does the audit.
        if (in_fragment_ && !record_.empty()) return "a fragmented record that never ended, followed by a new record";
        if (type == kFullType) {
          in_fragment_ = false;
          complete(payload, at);
        } else {
          record_.assign(payload);
          record_start_ = at;
          in_fragment_ = true;
        }
        return {};
      case kMiddleType:
      case kLastType:
        if (!in_fragment_) return "a continuation fragment without the start of its record";
        record_.append(payload);
        if (type == kLastType) {
          in_fragment_ = false;
          complete(record_, record_start_);
        }
        return {};
      default:
        return {};
    }
  }

  void complete(std::string_view record, std::uint64_t at) {
    ++audit_.records;
    if (std::string problem = check_(record, at); !problem.empty()) damaged(at, problem);
  }

  Result<LogAudit> torn(std::uint64_t at) {
    audit_.tail_bytes = audit_.file_size - (in_fragment_ ? record_start_ : at);
    return audit_;
  }

  // A zeroed header is how leveldb marks preallocated space, and what a filesystem shows for
  // blocks it allocated before a power cut: acceptable only if nothing but zeros follows.
  Result<LogAudit> zero_fill(std::string_view rest_of_block, std::uint64_t at) {
    bool zeros = all_zero(rest_of_block);
    while (zeros) {
      leveldb::Slice block;
      if (auto s = file_->Read(kBlockSize, &block, buffer_.data()); !s.ok()) return io_error(s);
      if (block.empty()) break;
      zeros = all_zero(std::string_view(block.data(), block.size()));
    }
    if (!zeros) return damaged(at, "a zeroed record header with data behind it (the records after it would be skipped)");
    return torn(at);
  }

  Result<LogAudit> damaged(std::uint64_t at, std::string_view what) {
    if (audit_.damage.empty()) audit_.damage = fmt::format("{}: {} at byte {}", path_, what, at);
    return audit_;
  }

  Result<LogAudit> io_error(const leveldb::Status& s) const {
    return fail(ErrorCategory::LocalIo, fmt::format("reading {}: {}", path_, s.ToString()));
  }

  leveldb::Env& env_;
  const std::string path_;
  const LogRecordCheck& check_;
  std::vector<char> buffer_;
  std::unique_ptr<leveldb::SequentialFile> file_;
  LogAudit audit_;
  std::string record_;
  std::uint64_t record_start_ = 0;
  bool in_fragment_ = false;
};

}  // namespace

Result<LogAudit> audit_log_file(leveldb::Env& env, const std::string& path, const LogRecordCheck& check) {
  return Auditor(env, path, check).run();
}

Result<LogAudit> audit_write_ahead_log(leveldb::Env& env, const std::string& path, const LogPutVisitor& on_put) {
  bool first = true;
  std::uint64_t next_sequence = 0;
  const LogRecordCheck check = [&](std::string_view record, std::uint64_t) -> std::string {
    if (record.size() < kBatchHeader) return "a write batch shorter than its 12-byte header";
    const std::uint64_t sequence = load_le64(record.data());
    const std::uint32_t count = load_le32(record.data() + 8);
    // Inside one log every batch takes the sequence numbers right after the previous one;
    // a jump means batches in between were lost (or this one was copied from elsewhere).
    if (!first && sequence != next_sequence)
      return fmt::format("a write batch with sequence number {} where {} was next", sequence, next_sequence);
    first = false;
    next_sequence = sequence + count;
    std::string_view in = record.substr(kBatchHeader);
    std::uint32_t found = 0;
    while (!in.empty()) {
      const auto tag = static_cast<unsigned char>(in.front());
      in.remove_prefix(1);
      std::string_view key, value;
      if (tag == kTagValue) {
        if (!get_varstring(in, key) || !get_varstring(in, value)) return "a malformed put in a write batch";
        if (std::string problem = on_put(key, value); !problem.empty()) return problem;
      } else if (tag == kTagDeletion) {
        if (!get_varstring(in, key)) return "a malformed delete in a write batch";
      } else {
        return fmt::format("a write batch entry with unknown tag {}", tag);
      }
      ++found;
    }
    if (found != count) return fmt::format("a write batch that says it holds {} entries but holds {}", count, found);
    return {};
  };
  return audit_log_file(env, path, check);
}

}  // namespace xfer::store
