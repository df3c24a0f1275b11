#include "tests/store/crash_workload.h"

#include <chrono>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace xfer::test {
namespace {

using store::Batch;
using store::Durability;
using store::SegmentRecord;
using store::TransferRecord;

constexpr std::uint32_t kSegments = 3;
constexpr std::uint64_t kSegmentSize = 1 << 20;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string url_of(TransferId id) { return fmt::format("https://example.test/file/{}", id); }

struct Owned {
  TransferRecord record;
  std::uint64_t offsets[kSegments];
  bool completed = false;
};

SegmentRecord segment(TransferId id, std::uint32_t index, std::uint64_t offset) {
  SegmentRecord s;
  s.transfer_id = id;
  s.index = index;
  s.start = index * kSegmentSize;
  s.end = (index + 1) * kSegmentSize;
  s.offset = offset;
  return s;
}

void writer(store::Journal& journal, std::uint64_t seed, const std::atomic<bool>& stop, const AckSink& ack) {
  std::mt19937_64 rng(seed);
  std::vector<Owned> owned;
  auto pick = [&](bool completed) -> Owned* {
    std::vector<Owned*> candidates;
    for (auto& o : owned)
      if (o.completed == completed) candidates.push_back(&o);
    return candidates.empty() ? nullptr : candidates[rng() % candidates.size()];
  };

  while (!stop.load(std::memory_order_relaxed)) {
    const int roll = static_cast<int>(rng() % 100);
    Owned* active = pick(false);
    if (roll < 20 || active == nullptr) {
      auto id = journal.next_transfer_id();
      if (!id) return;
      Owned o;
      o.record.id = *id;
      o.record.url = url_of(*id);
      o.record.local_path = fmt::format("/downloads/{}.bin", *id);
      o.record.request_headers = {{"X-Test", std::to_string(seed)}};
      o.record.state = TransferState::Active;
      o.record.size = kSegments * kSegmentSize;
      o.record.segment_count = kSegments;
      o.record.priority = static_cast<std::int32_t>(rng() % 5) - 2;
      o.record.created_at = now_ms();
      o.record.updated_at = o.record.created_at;
      Batch batch;
      batch.put_transfer(o.record);
      for (std::uint32_t i = 0; i < kSegments; ++i) {
        o.offsets[i] = i * kSegmentSize;
        batch.put_segment(segment(*id, i, o.offsets[i]));
      }
      if (!journal.commit(std::move(batch), Durability::Synced)) return;
      ack(fmt::format("T {}\n", *id));
      owned.push_back(std::move(o));
    } else if (roll < 70) {
      const std::uint32_t index = static_cast<std::uint32_t>(rng() % kSegments);
      std::uint64_t& offset = active->offsets[index];
      offset = std::min<std::uint64_t>(offset + 1 + rng() % 65536, (index + 1) * kSegmentSize);
      if (!journal.checkpoint(segment(active->record.id, index, offset))) return;
      ack(fmt::format("C {} {} {}\n", active->record.id, index, offset));
    } else if (roll < 80) {
      active->record.state = TransferState::Completed;
      active->record.updated_at = now_ms();
      Batch batch;
      batch.put_transfer(active->record);
      for (std::uint32_t i = 0; i < kSegments; ++i) {
        active->offsets[i] = (i + 1) * kSegmentSize;
        batch.put_segment(segment(active->record.id, i, active->offsets[i]));
      }
      store::OutboxEvent event;
      event.transfer_id = active->record.id;
      event.kind = EventKind::Completed;
      event.message = "done";
      event.created_at = active->record.updated_at;
      batch.add_event(event);
      if (!journal.commit(std::move(batch), Durability::Synced)) return;
      active->completed = true;
      ack(fmt::format("D {}\n", active->record.id));
    } else if (roll < 90) {
      // Unsynced bookkeeping; sometimes a reprioritisation, which moves the index entry.
      ++active->record.attempt_count;
      if (rng() % 2 == 0) active->record.priority = static_cast<std::int32_t>(rng() % 5) - 2;
      Batch batch;
      batch.put_transfer(active->record);
      if (!journal.commit(std::move(batch), Durability::Buffered)) return;
    } else {
      Owned* done = pick(true);
      if (done == nullptr) continue;
      auto events = journal.pending_events();
      if (!events) return;
      for (const auto& event : *events) {
        if (event.transfer_id != done->record.id) continue;
        Batch batch;
        batch.ack_event(event.seq);
        batch.erase_transfer(done->record.id);
        if (!journal.commit(std::move(batch), Durability::Synced)) return;
        ack(fmt::format("X {}\n", done->record.id));
        const TransferId gone = done->record.id;
        std::erase_if(owned, [&](const Owned& o) { return o.record.id == gone; });
        break;
      }
    }
  }
}

}  // namespace

void run_crash_workload(store::Journal& journal, int threads, std::uint64_t seed, const std::atomic<bool>& stop,
                        const AckSink& ack) {
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] { writer(journal, seed * 1000 + static_cast<std::uint64_t>(t), stop, ack); });
  for (auto& w : workers) w.join();
}

void AckLog::feed(std::string_view bytes) {
  partial_.append(bytes);
  std::size_t start = 0;
  for (std::size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1)
    add_line(partial_.substr(start, nl - start));
  partial_.erase(0, start);
}

void AckLog::add_line(const std::string& line) {
  std::istringstream in(line);
  char kind = 0;
  TransferId id = 0;
  in >> kind >> id;
  if (!in) return;
  ++count_;
  switch (kind) {
    case 'T': created_.insert(id); break;
    case 'D': completed_.insert(id); break;
    case 'X': forgotten_.insert(id); break;
    case 'C': {
      std::uint32_t index = 0;
      std::uint64_t offset = 0;
      in >> index >> offset;
      auto& best = offsets_[{id, index}];
      best = std::max(best, offset);
      break;
    }
    default: --count_; break;
  }
}

std::vector<std::string> verify_after_crash(store::Journal& journal, const AckLog& acks) {
  std::vector<std::string> problems;
  auto problem = [&](std::string text) {
    if (problems.size() < 20) problems.push_back(std::move(text));
  };

  std::map<TransferId, TransferRecord> all;
  auto scanned = journal.scan_all([&](const TransferRecord& r) {
    all.emplace(r.id, r);
    return true;
  });
  if (!scanned) return {"scan_all: " + scanned.error().describe()};

  for (const auto& [id, r] : all) {
    if (r.url != url_of(id)) problem(fmt::format("t/{}: unexpected url {}", id, r.url));
    auto segs = journal.segments(id);
    if (!segs) {
      problem(fmt::format("segments of {}: {}", id, segs.error().describe()));
      continue;
    }
    if (segs->size() != kSegments)
      problem(fmt::format("transfer {} has {} segments, its creation batch had {}", id, segs->size(), kSegments));
    for (const auto& s : *segs) {
      if (r.state == TransferState::Completed && s.offset != *s.end)
        problem(fmt::format("completed transfer {} has segment {} at {} (completion batch torn)", id, s.index, s.offset));
      if (auto it = acks.offsets_.find({id, s.index}); it != acks.offsets_.end() && s.offset < it->second)
        problem(fmt::format("segment {}/{} at {} but checkpoint {} was acknowledged", id, s.index, s.offset, it->second));
    }
  }

  std::vector<TransferRecord> unfinished;
  auto scan = journal.scan_unfinished([&](const TransferRecord& r) {
    unfinished.push_back(r);
    return true;
  });
  if (!scan) problem("scan_unfinished: " + scan.error().describe());
  std::size_t expected_unfinished = 0;
  for (const auto& [id, r] : all) expected_unfinished += is_unfinished(r.state) ? 1 : 0;
  if (unfinished.size() != expected_unfinished)
    problem(fmt::format("unfinished index lists {} transfers, records say {}", unfinished.size(), expected_unfinished));
  for (std::size_t i = 1; i < unfinished.size(); ++i) {
    const auto& a = unfinished[i - 1];
    const auto& b = unfinished[i];
    if (std::tuple(-static_cast<std::int64_t>(a.priority), a.created_at, a.id) >=
        std::tuple(-static_cast<std::int64_t>(b.priority), b.created_at, b.id))
      problem(fmt::format("unfinished order: {} before {}", a.id, b.id));
  }

  auto events = journal.pending_events();
  if (!events) {
    problem("pending_events: " + events.error().describe());
  } else {
    std::map<TransferId, int> per_transfer;
    for (std::size_t i = 0; i < events->size(); ++i) {
      const auto& e = (*events)[i];
      if (i > 0 && (*events)[i - 1].seq >= e.seq) problem("outbox out of order");
      ++per_transfer[e.transfer_id];
      auto it = all.find(e.transfer_id);
      if (it == all.end() || it->second.state != TransferState::Completed)
        problem(fmt::format("event {} for transfer {} that is not completed (batch torn)", e.seq, e.transfer_id));
    }
    for (const auto& [id, r] : all)
      if (r.state == TransferState::Completed && per_transfer[id] != 1)
        problem(fmt::format("completed transfer {} has {} outbox events", id, per_transfer[id]));
  }

  for (TransferId id : acks.created_)
    if (!all.contains(id) && !acks.completed_.contains(id))
      problem(fmt::format("acknowledged transfer {} is lost", id));
  for (TransferId id : acks.completed_)
    if (auto it = all.find(id); it != all.end() && it->second.state != TransferState::Completed)
      problem(fmt::format("acknowledged completion of {} is lost", id));
  for (TransferId id : acks.forgotten_)
    if (all.contains(id)) problem(fmt::format("forgotten transfer {} came back", id));
  return problems;
}

}  // namespace xfer::test
