// The key schema of the journal (docs/journal.md): one short ASCII prefix per record kind,
// then fixed-width big-endian fields so that leveldb's bytewise order is the scan order the
// engine needs. Promises: unfinished_key() sorts by priority (highest first), then creation
// time (oldest first), then id; segment keys of one transfer share segment_prefix(id).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/records.h"

namespace xfer::store::keys {

inline constexpr std::string_view kSchema = "m/schema";
inline constexpr std::string_view kNextTransferId = "m/next_id";
inline constexpr std::string_view kNextEventSeq = "m/next_seq";
// The number of the last commit group, written in every group (store/durable_watermark.h).
inline constexpr std::string_view kCommitCount = "m/commits";

inline constexpr std::string_view kTransferPrefix = "t/";
inline constexpr std::string_view kUnfinishedPrefix = "u/";
inline constexpr std::string_view kSegmentPrefix = "s/";
inline constexpr std::string_view kOriginPrefix = "o/";
inline constexpr std::string_view kEventPrefix = "e/";
// "r/": the remote resource an upload feeds ("u/" is the unfinished index).
inline constexpr std::string_view kUploadPrefix = "r/";

std::string transfer(TransferId id);
std::string unfinished(const TransferRecord& record);
std::string segment(TransferId id, std::uint32_t index);
std::string segment_prefix(TransferId id);
std::string origin(std::string_view origin);
std::string event(std::uint64_t seq);
std::string upload(TransferId id);

// Decoders for keys read back from a scan; nullopt when the key is malformed.
std::optional<TransferId> transfer_id_of(std::string_view transfer_key);
std::optional<TransferId> transfer_id_of_unfinished(std::string_view unfinished_key);
std::optional<std::uint64_t> seq_of_event(std::string_view event_key);

// A readable form for error messages: "t/42", "r/42", "s/42/3", "e/17", "o/https://h:443",
// "u/<priority>/<created_at>/<id>".
std::string describe(std::string_view key);

}  // namespace xfer::store::keys
