// Journal behaviour over a real leveldb in a temporary directory: round trips, scan order,
// index maintenance, atomic batches, counters, schema version, corruption, the pid lock.
#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <set>
#include <thread>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include "store/crc32c.h"
#include "store/journal.h"
#include "store/journal_keys.h"
#include "store/record_codec.h"
#include "tests/store/child_process.h"
#include "tests/store/sample_records.h"
#include "tests/support/temp_dir.h"

using namespace xfer;
using namespace xfer::store;
using xfer::test::sample_event;
using xfer::test::sample_origin;
using xfer::test::sample_segment;
using xfer::test::sample_transfer;

namespace {

std::unique_ptr<Journal> open_journal(const std::filesystem::path& dir, bool group_commit = true) {
  JournalOptions options;
  options.directory = dir.string();
  options.group_commit = group_commit;
  auto journal = Journal::open(options);
  if (!journal) FAIL("open: " << journal.error().describe());
  return std::move(*journal);
}

void commit_ok(Journal& journal, Batch batch, Durability d = Durability::Synced) {
  auto r = journal.commit(std::move(batch), d);
  if (!r) FAIL("commit: " << r.error().describe());
}

void put(Journal& journal, const TransferRecord& t) {
  Batch b;
  b.put_transfer(t);
  commit_ok(journal, std::move(b));
}

std::vector<TransferId> unfinished_ids(Journal& journal) {
  std::vector<TransferId> ids;
  auto r = journal.scan_unfinished([&](const TransferRecord& t) {
    ids.push_back(t.id);
    return true;
  });
  if (!r) FAIL("scan_unfinished: " << r.error().describe());
  return ids;
}

// Writes raw bytes under `key` with leveldb itself, bypassing the journal.
void raw_put(const std::filesystem::path& dir, const std::string& key, const std::string& value) {
  leveldb::Options options;
  options.create_if_missing = true;
  leveldb::DB* db = nullptr;
  auto s = leveldb::DB::Open(options, dir.string(), &db);
  REQUIRE(s.ok());
  std::unique_ptr<leveldb::DB> owner(db);
  REQUIRE(db->Put(leveldb::WriteOptions(), key, value).ok());
}

}  // namespace

TEST_CASE("records round-trip through the journal and survive a reopen", "[store][journal]") {
  test::TempDir dir("journal");
  const TransferRecord t = sample_transfer(7, 3);
  const OriginRecord o = sample_origin("https://example.test:443");
  {
    auto j = open_journal(dir.path());
    Batch b;
    b.put_transfer(t);
    b.put_segment(sample_segment(7, 0));
    b.put_segment(sample_segment(7, 1));
    b.put_segment(sample_segment(8, 0));  // another transfer's segment: must not leak into 7's
    b.put_origin(o);
    b.add_event(sample_event(7));
    commit_ok(*j, std::move(b));
  }
  auto j = open_journal(dir.path());
  auto got = j->get_transfer(7);
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK(**got == t);
  auto missing = j->get_transfer(8);
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());

  auto segs = j->segments(7);
  REQUIRE(segs);
  REQUIRE(segs->size() == 2);
  CHECK((*segs)[0] == sample_segment(7, 0));
  CHECK((*segs)[1] == sample_segment(7, 1));

  auto origin = j->get_origin("https://example.test:443");
  REQUIRE(origin);
  REQUIRE(origin->has_value());
  CHECK(**origin == o);
  auto no_origin = j->get_origin("https://other.test:443");
  REQUIRE(no_origin);
  CHECK_FALSE(no_origin->has_value());

  auto events = j->pending_events();
  REQUIRE(events);
  REQUIRE(events->size() == 1);
  OutboxEvent expected = sample_event(7);
  expected.seq = (*events)[0].seq;
  CHECK((*events)[0] == expected);
  CHECK((*events)[0].seq >= 1);
}

TEST_CASE("unfinished transfers come back by priority, then age - finished ones never", "[store][journal]") {
  test::TempDir dir("journal");
  auto j = open_journal(dir.path());
  // id, priority, created_at, state
  put(*j, sample_transfer(1, 0, 3000));
  put(*j, sample_transfer(2, 5, 5000));
  put(*j, sample_transfer(3, 0, 1000));
  put(*j, sample_transfer(4, -2, 500));
  put(*j, sample_transfer(5, 5, 4000));
  TransferRecord done = sample_transfer(6, 9, 100);
  done.state = TransferState::Completed;
  put(*j, done);
  TransferRecord failed = sample_transfer(7, 9, 100);
  failed.state = TransferState::Failed;
  put(*j, failed);
  TransferRecord paused = sample_transfer(8, 0, 2000);
  paused.state = TransferState::Paused;
  put(*j, paused);

  CHECK(unfinished_ids(*j) == std::vector<TransferId>{5, 2, 3, 8, 1, 4});

  SECTION("a state change removes the index entry, a priority change moves it") {
    TransferRecord t2 = sample_transfer(2, 5, 5000);
    t2.state = TransferState::Completed;
    TransferRecord t4 = sample_transfer(4, 10, 500);
    Batch b;
    b.put_transfer(t2);
    b.put_transfer(t4);
    commit_ok(*j, std::move(b), Durability::Buffered);
    CHECK(unfinished_ids(*j) == std::vector<TransferId>{4, 5, 3, 8, 1});
    j.reset();
    j = open_journal(dir.path());
    CHECK(unfinished_ids(*j) == std::vector<TransferId>{4, 5, 3, 8, 1});
  }
  SECTION("erase removes the record, its index entry and its segments") {
    Batch b;
    b.put_segment(sample_segment(3, 0));
    b.put_segment(sample_segment(3, 1));
    commit_ok(*j, std::move(b));
    Batch e;
    e.erase_transfer(3);
    commit_ok(*j, std::move(e));
    CHECK(unfinished_ids(*j) == std::vector<TransferId>{5, 2, 8, 1, 4});
    auto segs = j->segments(3);
    REQUIRE(segs);
    CHECK(segs->empty());
    auto gone = j->get_transfer(3);
    REQUIRE(gone);
    CHECK_FALSE(gone->has_value());
  }
  SECTION("the callback can stop the scan early") {
    int seen = 0;
    REQUIRE(j->scan_unfinished([&](const TransferRecord&) { return ++seen < 2; }));
    CHECK(seen == 2);
  }
  SECTION("scan_all sees finished transfers too, in id order") {
    std::vector<TransferId> ids;
    REQUIRE(j->scan_all([&](const TransferRecord& t) {
      ids.push_back(t.id);
      return true;
    }));
    CHECK(ids == std::vector<TransferId>{1, 2, 3, 4, 5, 6, 7, 8});
  }
}

TEST_CASE("the same transfer updated twice in one batch leaves one index entry", "[store][journal]") {
  test::TempDir dir("journal");
  auto j = open_journal(dir.path());
  Batch b;
  b.put_transfer(sample_transfer(1, 1, 10));
  b.put_transfer(sample_transfer(1, 2, 10));
  b.put_transfer(sample_transfer(1, 3, 10));
  commit_ok(*j, std::move(b));
  CHECK(unfinished_ids(*j) == std::vector<TransferId>{1});
}

TEST_CASE("the outbox keeps order and forgets acknowledged events", "[store][journal]") {
  test::TempDir dir("journal");
  std::vector<std::uint64_t> seqs;
  {
    auto j = open_journal(dir.path());
    for (TransferId id = 1; id <= 5; ++id) {
      Batch b;
      b.add_event(sample_event(id));
      commit_ok(*j, std::move(b));
    }
    auto events = j->pending_events();
    REQUIRE(events);
    REQUIRE(events->size() == 5);
    for (std::size_t i = 0; i < 5; ++i) {
      CHECK((*events)[i].transfer_id == i + 1);
      seqs.push_back((*events)[i].seq);
    }
    CHECK(std::is_sorted(seqs.begin(), seqs.end()));
    CHECK(std::adjacent_find(seqs.begin(), seqs.end()) == seqs.end());
    Batch ack;
    ack.ack_event(seqs[0]);
    ack.ack_event(seqs[4]);
    commit_ok(*j, std::move(ack));
  }
  auto j = open_journal(dir.path());
  auto events = j->pending_events();
  REQUIRE(events);
  REQUIRE(events->size() == 3);
  CHECK((*events)[0].transfer_id == 2);
  CHECK((*events)[2].transfer_id == 4);
  // Sequence numbers are never reused, even after the newest event was acknowledged.
  Batch b;
  b.add_event(sample_event(9));
  commit_ok(*j, std::move(b));
  events = j->pending_events();
  REQUIRE(events);
  CHECK(events->back().transfer_id == 9);
  CHECK(events->back().seq > seqs[4]);
}

TEST_CASE("pending_events_after returns only the newer unacknowledged events, in order",
          "[store][journal]") {
  test::TempDir dir("journal");
  auto j = open_journal(dir.path());
  for (TransferId id = 1; id <= 6; ++id) {
    Batch b;
    b.add_event(sample_event(id));
    commit_ok(*j, std::move(b));
  }
  auto all = j->pending_events();
  REQUIRE(all);
  REQUIRE(all->size() == 6);
  Batch ack;
  ack.ack_event((*all)[3].seq);  // a hole after the cursor
  commit_ok(*j, std::move(ack));
  auto after = j->pending_events_after((*all)[1].seq);
  REQUIRE(after);
  REQUIRE(after->size() == 3);
  CHECK((*after)[0].transfer_id == 3);
  CHECK((*after)[1].transfer_id == 5);
  CHECK((*after)[2].transfer_id == 6);
  auto none = j->pending_events_after(all->back().seq);
  REQUIRE(none);
  CHECK(none->empty());
  auto from_zero = j->pending_events_after(0);
  REQUIRE(from_zero);
  CHECK(from_zero->size() == 5);
  auto past_everything = j->pending_events_after(std::numeric_limits<std::uint64_t>::max());
  REQUIRE(past_everything);
  CHECK(past_everything->empty());
}

TEST_CASE("transfer ids are never reused across reopen", "[store][journal]") {
  test::TempDir dir("journal");
  TransferId last = 0;
  {
    auto j = open_journal(dir.path());
    for (int i = 0; i < 3; ++i) {
      auto id = j->next_transfer_id();
      REQUIRE(id);
      CHECK(*id > last);
      last = *id;
    }
    put(*j, sample_transfer(last));
  }
  {
    auto j = open_journal(dir.path());
    auto id = j->next_transfer_id();
    REQUIRE(id);
    CHECK(*id > last);
    // A record with an id the counter never handed out pushes the counter past it.
    put(*j, sample_transfer(1000));
  }
  auto j = open_journal(dir.path());
  auto id = j->next_transfer_id();
  REQUIRE(id);
  CHECK(*id > 1000);
}

TEST_CASE("a batch is all-or-nothing", "[store][journal]") {
  test::TempDir dir("journal");
  auto j = open_journal(dir.path());
  Batch b;
  b.put_transfer(sample_transfer(1));
  b.put_segment(sample_segment(1, 0));
  b.add_event(sample_event(1));
  b.put_transfer(sample_transfer(0));  // invalid: id 0 is reserved
  auto r = j->commit(std::move(b), Durability::Synced);
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == ErrorCategory::InvalidArgument);
  auto t = j->get_transfer(1);
  REQUIRE(t);
  CHECK_FALSE(t->has_value());
  auto segs = j->segments(1);
  REQUIRE(segs);
  CHECK(segs->empty());
  auto events = j->pending_events();
  REQUIRE(events);
  CHECK(events->empty());
  // A failed batch in a group does not take its neighbours down.
  put(*j, sample_transfer(2));
  CHECK(unfinished_ids(*j) == std::vector<TransferId>{2});
}

TEST_CASE("concurrent committers keep the index consistent", "[store][journal]") {
  test::TempDir dir("journal");
  for (bool group : {true, false}) {
    DYNAMIC_SECTION("group commit " << group) {
      auto j = open_journal(dir.path() / (group ? "g" : "n"), group);
      constexpr int kThreads = 8;
      constexpr int kRounds = 60;
      std::vector<std::thread> threads;
      std::atomic<int> failures{0};
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < kRounds; ++i) {
            // All threads fight over transfers 1..10: priority and state keep changing.
            TransferRecord r = sample_transfer(1 + (i + t) % 10, (i * 7 + t) % 5, 100 + t);
            r.state = (i % 4 == 3) ? TransferState::Completed : TransferState::Active;
            Batch b;
            b.put_transfer(r);
            b.put_segment(sample_segment(r.id, static_cast<std::uint32_t>(t), static_cast<std::uint64_t>(i)));
            if (!j->commit(std::move(b), (i % 3 == 0) ? Durability::Buffered : Durability::Synced)) ++failures;
          }
        });
      }
      for (auto& th : threads) th.join();
      CHECK(failures == 0);
      std::set<TransferId> expected;
      REQUIRE(j->scan_all([&](const TransferRecord& r) {
        if (is_unfinished(r.state)) expected.insert(r.id);
        return true;
      }));
      const auto ids = unfinished_ids(*j);  // fails on any stale or disagreeing index entry
      CHECK(std::set<TransferId>(ids.begin(), ids.end()) == expected);
      CHECK(ids.size() == expected.size());
    }
  }
}

TEST_CASE("corrupt and unknown-version records are reported with their key", "[store][journal]") {
  test::TempDir dir("journal");
  {
    auto j = open_journal(dir.path());
    put(*j, sample_transfer(5));
    put(*j, sample_transfer(6));
    Batch b;
    b.put_segment(sample_segment(5, 0));
    b.add_event(sample_event(5));
    commit_ok(*j, std::move(b));
  }
  std::string good = encode(sample_transfer(6));
  SECTION("bad checksum in a transfer") {
    std::string bad = good;
    bad[20] = static_cast<char>(bad[20] ^ 1);
    raw_put(dir.path(), keys::transfer(6), bad);
    auto j = open_journal(dir.path());
    auto got = j->get_transfer(6);
    REQUIRE_FALSE(got);
    CHECK(got.error().category() == ErrorCategory::Journal);
    CHECK_THAT(got.error().message(), Catch::Contains("t/6") && Catch::Contains("checksum"));
    auto all = j->scan_all([](const TransferRecord&) { return true; });
    REQUIRE_FALSE(all);
    CHECK_THAT(all.error().message(), Catch::Contains("t/6"));
    // The healthy neighbour is still readable.
    auto ok = j->get_transfer(5);
    REQUIRE(ok);
    CHECK(ok->has_value());
  }
  SECTION("unknown record version in a segment") {
    std::string seg = encode(sample_segment(5, 0));
    seg[0] = 2;  // a future record version; checksum left stale too
    raw_put(dir.path(), keys::segment(5, 0), seg);
    auto j = open_journal(dir.path());
    auto segs = j->segments(5);
    REQUIRE_FALSE(segs);
    CHECK(segs.error().category() == ErrorCategory::Journal);
    CHECK_THAT(segs.error().message(), Catch::Contains("s/5/0"));
  }
  SECTION("unknown record version with a valid checksum in the outbox") {
    auto events = open_journal(dir.path())->pending_events();
    REQUIRE(events);
    REQUIRE(events->size() == 1);
    const std::uint64_t seq = (*events)[0].seq;
    // Re-encode with the version after the newest and a matching CRC: only the version check
    // can catch it.
    std::string value = encode((*events)[0]);
    const int unknown = record_version(static_cast<std::uint8_t>(RecordKind::Event)) + 1;
    value[0] = static_cast<char>(unknown);
    const std::uint32_t crc = crc32c(value.data(), value.size() - 4);
    for (int i = 0; i < 4; ++i) value[value.size() - 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
    raw_put(dir.path(), keys::event(seq), value);
    auto j = open_journal(dir.path());
    auto got = j->pending_events();
    REQUIRE_FALSE(got);
    CHECK_THAT(got.error().message(),
               Catch::Contains("e/" + std::to_string(seq)) &&
                   Catch::Contains("record version " + std::to_string(unknown)) &&
                   Catch::Contains("written by a newer xfer"));
  }
  SECTION("a damaged index entry") {
    TransferRecord ghost = sample_transfer(77, 4, 1234);
    raw_put(dir.path(), keys::unfinished(ghost), "");
    auto j = open_journal(dir.path());
    auto scan = j->scan_unfinished([](const TransferRecord&) { return true; });
    REQUIRE_FALSE(scan);
    CHECK_THAT(scan.error().message(), Catch::Contains("u/4/1234/77"));
  }
  SECTION("an index entry holding another transfer's record") {
    raw_put(dir.path(), keys::unfinished(sample_transfer(77, 4, 1234)), encode(sample_transfer(5)));
    auto j = open_journal(dir.path());
    auto scan = j->scan_unfinished([](const TransferRecord&) { return true; });
    REQUIRE_FALSE(scan);
    CHECK_THAT(scan.error().message(), Catch::Contains("u/4/1234/77") && Catch::Contains("does not match"));
  }
}

TEST_CASE("a journal from a newer schema version is refused", "[store][journal]") {
  test::TempDir dir("journal");
  { open_journal(dir.path()); }
  raw_put(dir.path(), std::string(keys::kSchema), encode_counter(kSchemaVersion + 1));
  JournalOptions options;
  options.directory = dir.path().string();
  auto j = Journal::open(options);
  REQUIRE_FALSE(j);
  CHECK(j.error().category() == ErrorCategory::Journal);
  CHECK_THAT(j.error().message(), Catch::Contains("newer") && Catch::Contains(dir.path().string()) &&
                                      Catch::Contains("schema version " + std::to_string(kSchemaVersion + 1)));
}

TEST_CASE("a leveldb database that is not a journal is refused", "[store][journal]") {
  test::TempDir dir("journal");
  raw_put(dir.path(), "something", "else");
  JournalOptions options;
  options.directory = dir.path().string();
  auto j = Journal::open(options);
  REQUIRE_FALSE(j);
  CHECK(j.error().category() == ErrorCategory::Journal);
  CHECK_THAT(j.error().message(), Catch::Contains("no schema version"));
}

TEST_CASE("a second opener is refused with the owner's pid", "[store][journal]") {
  test::TempDir dir("journal");
  SECTION("another process holds it") {
    test::ChildProcess child({XFER_JOURNAL_CRASH_WRITER, "hold", dir.path().string()});
    const std::string out = child.read_until("ready\n", std::chrono::seconds(20));
    REQUIRE(out == "ready\n");
    JournalOptions options;
    options.directory = dir.path().string();
    auto j = Journal::open(options);
    REQUIRE_FALSE(j);
    CHECK(j.error().category() == ErrorCategory::Journal);
    CHECK(j.error().message() == "journal " + dir.path().string() + " in use by pid " + std::to_string(child.pid()));
    CHECK(j.error().retryable());  // the one Journal error worth waiting out: the holder may let go
    // Once the owner dies (even by SIGKILL) the journal opens again.
    child.kill_and_drain();
    auto again = Journal::open(options);
    REQUIRE(again);
  }
  SECTION("the same process opens it twice") {
    auto first = open_journal(dir.path());
    JournalOptions options;
    options.directory = dir.path().string();
    auto j = Journal::open(options);
    REQUIRE_FALSE(j);
    CHECK_THAT(j.error().message(), Catch::Contains("in use by pid " + std::to_string(::getpid())));
  }
}

TEST_CASE("origin puts that own some fields keep the others, in one group or across commits",
          "[store][journal]") {
  test::TempDir dir("journal-origin-fields");
  auto j = open_journal(dir.path());
  const std::string key = "https://example.test:443";
  OriginRecord uploads;
  uploads.origin = key;
  uploads.upload_interop_version = 7;
  uploads.upload_limits.max_size = 1000;
  uploads.updated_at = 5;
  OriginRecord alternatives;
  alternatives.origin = key;
  alternatives.alt_svc = {{"h3", "", 8443, 99}};

  // Separate commits, both orders of arrival.
  Batch a;
  a.put_origin(uploads, OriginFields::Uploads);
  commit_ok(*j, std::move(a));
  Batch b;
  b.put_origin(alternatives, OriginFields::Alternatives);
  commit_ok(*j, std::move(b), Durability::Buffered);
  uploads.upload_interop_version = 8;
  Batch c;
  c.put_origin(uploads, OriginFields::Uploads);
  commit_ok(*j, std::move(c));
  auto got = j->get_origin(key);
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK((*got)->upload_interop_version == 8);
  CHECK((*got)->upload_limits.max_size == 1000u);
  REQUIRE((*got)->alt_svc.size() == 1);
  CHECK((*got)->alt_svc[0].port == 8443);

  // Within one batch, the later put sees the earlier one.
  alternatives.alt_svc = {{"h3", "", 9443, 99}};
  uploads.upload_interop_version = 9;
  Batch d;
  d.put_origin(alternatives, OriginFields::Alternatives);
  d.put_origin(uploads, OriginFields::Uploads);
  commit_ok(*j, std::move(d));
  got = j->get_origin(key);
  REQUIRE(got);
  CHECK((*got)->upload_interop_version == 9);
  REQUIRE((*got)->alt_svc.size() == 1);
  CHECK((*got)->alt_svc[0].port == 9443);

  // All replaces the whole record.
  OriginRecord whole;
  whole.origin = key;
  Batch e;
  e.put_origin(whole);
  commit_ok(*j, std::move(e));
  got = j->get_origin(key);
  REQUIRE(got);
  CHECK((*got)->alt_svc.empty());
  CHECK((*got)->upload_interop_version == 0);
}
