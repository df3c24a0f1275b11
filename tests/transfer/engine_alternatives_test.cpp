// AlternativesMemory against a real leveldb journal and a fake clock: what an origin's Alt-Svc
// said (every field line, less the response's Age) and that its HTTP/3 broke are kept in the
// journal, handed to the transport of the next run, and forgotten once expired.
#include <catch2/catch.hpp>

#include "store/leveldb_journal.h"
#include "tests/support/fake_clock.h"
#include "tests/support/temp_dir.h"
#include "transfer/engine/alternatives_memory.h"

using namespace xfer;
using namespace std::chrono_literals;

namespace {

// Hears what the memory tells a transport; carries no exchange.
class ListeningTransport final : public protocols::Transport {
 public:
  Result<std::unique_ptr<protocols::HttpStream>> start(const protocols::HttpRequest&, protocols::ExchangeSink&) override {
    return fail(ErrorCategory::Internal, "no exchanges here");
  }
  protocols::TransportCapabilities capabilities() const override { return {}; }
  void remember_alternatives(const std::string& origin, std::vector<AlternativeService> services) override {
    alternatives[origin] = std::move(services);
  }
  void remember_quic_broken(const std::string& origin, std::chrono::milliseconds how_long) override {
    broken[origin] = how_long;
  }
  std::map<std::string, std::vector<AlternativeService>> alternatives;
  std::map<std::string, std::chrono::milliseconds> broken;
};

std::unique_ptr<store::Journal> open_journal(const test::TempDir& dir) {
  store::JournalOptions options;
  options.directory = (dir / "journal").string();
  auto journal = store::LevelDbJournal::open(options);
  REQUIRE(journal);
  return std::move(*journal);
}

const std::string kOrigin = "https://files.example:8443";

// A new process on the same journal: what its transport hears before the origin's first exchange.
struct NextRun {
  std::unique_ptr<store::Journal> journal;
  ListeningTransport transport;
  NextRun(const test::TempDir& dir, const Clock& clock) : journal(open_journal(dir)) {
    engine::AlternativesMemory memory(*journal, clock);
    memory.load(kOrigin, transport);
  }
};

}  // namespace

TEST_CASE("Alt-Svc less the response's Age is kept for the next run", "[alt-svc][engine]") {
  test::TempDir dir("xfer-altmem");
  test::FakeClock clock;
  {
    auto journal = open_journal(dir);
    engine::AlternativesMemory memory(*journal, clock);
    ListeningTransport transport;
    // Two field lines, joined as the task joins them; the response sat 40 s in a cache.
    memory.seen(kOrigin, "h2=\":9000\", h3=\":8443\"; ma=100", 40, transport);
    REQUIRE(transport.alternatives[kOrigin].size() == 1);
    const AlternativeService& h3 = transport.alternatives[kOrigin][0];
    CHECK(h3.port == 8443);
    CHECK(h3.expires_at == clock.unix_millis() + 60'000);
    // Older than its max-age: nothing usable, and the journal forgets the endpoint.
    memory.seen(kOrigin, "h3=\":8443\"; ma=30", 45, transport);
    CHECK(transport.alternatives[kOrigin].empty());
    memory.seen(kOrigin, "h3=\":8443\"; ma=3600", 0, transport);
  }
  clock.advance(10min);
  NextRun next(dir, clock);
  REQUIRE(next.transport.alternatives[kOrigin].size() == 1);
  CHECK(next.transport.alternatives[kOrigin][0].port == 8443);
  CHECK(next.transport.broken.empty());
}

TEST_CASE("an origin whose HTTP/3 broke goes to TCP in the next run until the time is up", "[alt-svc][engine]") {
  test::TempDir dir("xfer-altmem");
  test::FakeClock clock;
  {
    auto journal = open_journal(dir);
    store::Batch uploads;
    store::OriginRecord facts;
    facts.origin = kOrigin;
    facts.upload_interop_version = 6;
    uploads.put_origin(facts, store::OriginFields::Uploads);
    REQUIRE(journal->commit(std::move(uploads), store::Durability::Synced));
    engine::AlternativesMemory memory(*journal, clock);
    ListeningTransport transport;
    memory.seen(kOrigin, "h3=\":8443\"; ma=86400", 0, transport);
    memory.broken(kOrigin, 10min);
    // Alt-Svc seen again after the failure keeps the failure (the server still says it).
    memory.seen(kOrigin, "h3=\":8443\"; ma=86400", 0, transport);
  }
  clock.advance(4min);
  {
    NextRun next(dir, clock);
    REQUIRE(next.transport.broken.count(kOrigin) == 1);
    CHECK(next.transport.broken[kOrigin] == 6min);
    CHECK(next.transport.alternatives[kOrigin].size() == 1);  // kept: it is worth trying later
  }
  clock.advance(7min);
  NextRun next(dir, clock);
  CHECK(next.transport.broken.empty());
  CHECK(next.transport.alternatives[kOrigin].size() == 1);
  // An upload's facts about the origin are not touched by any of this.
  auto record = next.journal->get_origin(kOrigin);
  REQUIRE(record);
  REQUIRE(*record);
  CHECK((*record)->upload_interop_version == 6);
}
