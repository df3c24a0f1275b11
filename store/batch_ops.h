// What a Batch records: the caller's intent, kept as values until commit. The journal turns
// it into one leveldb::WriteBatch at commit time, because maintaining the unfinished index
// and assigning outbox sequence numbers need the journal's current state.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "store/journal.h"
#include "store/records.h"

namespace xfer::store {

struct PutTransferOp {
  TransferRecord record;
};
struct EraseTransferOp {
  TransferId id;
};
struct PutSegmentOp {
  SegmentRecord segment;
};
struct PutOriginOp {
  OriginRecord origin;
  OriginFields fields = OriginFields::All;
};
struct AddEventOp {
  OutboxEvent event;
};
struct PutUploadOp {
  UploadRecord upload;
};
struct AckEventOp {
  std::uint64_t seq;
};

using BatchOp = std::variant<PutTransferOp, EraseTransferOp, PutSegmentOp, PutOriginOp, AddEventOp, AckEventOp,
                             PutUploadOp>;

struct Batch::Ops {
  std::vector<BatchOp> list;
};

}  // namespace xfer::store
