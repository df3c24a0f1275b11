#include "store/batch_ops.h"

#include <iterator>

namespace xfer::store {

Batch::Batch() : ops_(std::make_unique<Ops>()) {}
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

Batch::Ops& Batch::ops() {
  // A moved-from Batch has no Ops; it comes back to life on the next put.
  if (!ops_) ops_ = std::make_unique<Ops>();
  return *ops_;
}

void Batch::put_transfer(const TransferRecord& record) { ops().list.emplace_back(PutTransferOp{record}); }
void Batch::erase_transfer(TransferId id) { ops().list.emplace_back(EraseTransferOp{id}); }
void Batch::put_segment(const SegmentRecord& segment) { ops().list.emplace_back(PutSegmentOp{segment}); }
void Batch::put_upload(const UploadRecord& upload) { ops().list.emplace_back(PutUploadOp{upload}); }
void Batch::put_origin(const OriginRecord& origin, OriginFields fields) {
  ops().list.emplace_back(PutOriginOp{origin, fields});
}
void Batch::add_event(const OutboxEvent& event) { ops().list.emplace_back(AddEventOp{event}); }
void Batch::ack_event(std::uint64_t seq) { ops().list.emplace_back(AckEventOp{seq}); }

void Batch::append(Batch&& other) {
  if (other.empty()) return;
  auto& mine = ops().list;
  auto& theirs = other.ops_->list;
  if (mine.empty()) {
    mine.swap(theirs);
    return;
  }
  mine.insert(mine.end(), std::make_move_iterator(theirs.begin()),
              std::make_move_iterator(theirs.end()));
  theirs.clear();
}

bool Batch::empty() const { return !ops_ || ops_->list.empty(); }

}  // namespace xfer::store
