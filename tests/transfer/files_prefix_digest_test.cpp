// PrefixDigest (hashing a .part while it is written) and DirectorySyncGroup (shared directory
// fsyncs): the two pieces that keep finalize from re-reading files and from flushing a
// directory once per small file.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "protocols/http/digest_fields.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"
#include "transfer/files/directory_sync_group.h"
#include "transfer/files/file_system.h"
#include "transfer/files/prefix_digest.h"

using namespace xfer;

namespace {

protocols::Digest digest_of(const std::vector<std::uint8_t>& bytes, protocols::DigestAlgorithm a) {
  auto h = protocols::Hasher::create(a);
  REQUIRE(h);
  REQUIRE(h->update(bytes));
  auto v = h->finish();
  REQUIRE(v);
  return {a, *v};
}

std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  std::uint32_t x = 12345;
  for (auto& b : out) {
    x = x * 1103515245 + 12345;
    b = static_cast<std::uint8_t>(x >> 16);
  }
  return out;
}

}  // namespace

TEST_CASE("a digest fed the prefix in steps matches the whole file, and mismatches are named",
          "[files]") {
  test::TempDir dir;
  auto& fs = files::posix_file_system();
  auto file = fs.open_part((dir.path() / "a.part").string());
  REQUIRE(file);
  const auto bytes = pattern(3 * (1 << 20) + 4321);
  REQUIRE((*file)->write_at(0, bytes));

  files::DigestExpectations wanted;
  wanted.server_digest = digest_of(bytes, protocols::DigestAlgorithm::Sha256);
  wanted.user_checksum = digest_of(bytes, protocols::DigestAlgorithm::Sha512);

  files::PrefixDigest digest;
  for (std::uint64_t upto : {0ull, 1ull, 65536ull, 1ull << 20, 2ull << 20}) {
    REQUIRE(digest.advance(**file, upto, wanted));
    CHECK(digest.hashed() == upto);
  }
  CHECK(digest.verify(**file, bytes.size(), wanted));

  SECTION("a wrong user checksum fails as Integrity and names the checksum") {
    auto bad = digest_of(bytes, protocols::DigestAlgorithm::Sha512);
    bad.value[0] ^= 1;
    files::DigestExpectations wrong{wanted.server_digest, bad, std::nullopt};
    files::PrefixDigest d;
    REQUIRE(d.advance(**file, 1 << 20, wrong));
    auto r = d.verify(**file, bytes.size(), wrong);
    REQUIRE_FALSE(r);
    CHECK(r.error().category() == ErrorCategory::Integrity);
    CHECK_THAT(r.error().describe(), Catch::Contains("checksum"));
  }
  SECTION("learning the server's algorithm after hashing starts over from byte 0") {
    files::DigestExpectations only_user;
    only_user.user_checksum = wanted.user_checksum;
    files::PrefixDigest d;
    REQUIRE(d.advance(**file, 2 << 20, only_user));
    REQUIRE(d.advance(**file, 1 << 20, wanted));  // new algorithm set: rehash from zero
    CHECK(d.hashed() == (1u << 20));
    CHECK(d.verify(**file, bytes.size(), wanted));
  }
  SECTION("a reported digest is the whole file's, in the algorithm asked for, and only on success") {
    files::DigestExpectations report;
    report.report = files::reported_algorithm(true, std::nullopt);
    REQUIRE(report.report == protocols::DigestAlgorithm::Sha256);
    files::PrefixDigest d;
    REQUIRE(d.advance(**file, 65536, report));
    REQUIRE(d.verify(**file, bytes.size(), report));
    REQUIRE(d.reported());
    CHECK(*d.reported() == digest_of(bytes, protocols::DigestAlgorithm::Sha256));
    CHECK(protocols::format_user_checksum(*d.reported()).rfind("sha256:", 0) == 0);
    // Beside a checksum: the checksum's algorithm, checked and reported in one pass.
    files::DigestExpectations both = wanted;
    both.report = files::reported_algorithm(true, wanted.user_checksum);
    REQUIRE(d.verify(**file, bytes.size(), both));
    CHECK(d.reported() == wanted.user_checksum);
    CHECK_FALSE(files::reported_algorithm(false, wanted.user_checksum));
    both.user_checksum->value[3] ^= 1;
    CHECK_FALSE(d.verify(**file, bytes.size(), both));
    CHECK_FALSE(d.reported());
  }
  SECTION("a file shorter than the claimed prefix is a local error, not a wrong digest") {
    files::PrefixDigest d;
    auto r = d.advance(**file, bytes.size() + 10, wanted);
    REQUIRE_FALSE(r);
    CHECK(r.error().category() == ErrorCategory::LocalIo);
    // What the engine does then: forget the partial state, and the finalize hashes from zero.
    d.discard();
    CHECK(d.hashed() == 0);
    CHECK(d.verify(**file, bytes.size(), wanted));
  }
}

TEST_CASE("concurrent directory syncs share fsyncs, and each waits for one that began after it",
          "[files]") {
  files::DirectorySyncGroup group;
  using Clock = std::chrono::steady_clock;
  std::mutex mutex;
  std::vector<std::pair<Clock::time_point, Clock::time_point>> fsyncs;
  std::atomic<int> fail_next{0};
  auto fsync_fn = [&](const std::string&) -> Result<void> {
    const auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    const auto end = Clock::now();
    std::lock_guard lock(mutex);
    fsyncs.emplace_back(start, end);
    if (fail_next.exchange(0)) return fail(ErrorCategory::LocalIo, "injected fsync failure");
    return {};
  };

  constexpr int kThreads = 16, kCalls = 20;
  std::atomic<int> uncovered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) {
        const auto called = Clock::now();
        auto r = group.sync("/some/dir", fsync_fn);
        const auto returned = Clock::now();
        if (!r) continue;
        std::lock_guard lock(mutex);
        bool covered = false;
        for (const auto& [start, end] : fsyncs)
          covered = covered || (start >= called && end <= returned);
        if (!covered) ++uncovered;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(uncovered == 0);
  INFO("fsyncs for " << kThreads * kCalls << " calls: " << fsyncs.size());
  CHECK(fsyncs.size() < static_cast<std::size_t>(kThreads * kCalls / 2));

  SECTION("a failed fsync reaches the caller it covered") {
    fail_next = 1;
    auto r = group.sync("/some/dir", fsync_fn);
    REQUIRE_FALSE(r);
    CHECK(r.error().category() == ErrorCategory::LocalIo);
    CHECK(group.sync("/some/dir", fsync_fn));
  }
}
