// Deduplication digests and the file-system checks of a batch entry.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli/batch_entry.h"
#include "cli/digest_set.h"
#include "tests/support/temp_dir.h"

using namespace xfer;
using namespace xfer::cli;
namespace fs = std::filesystem;

TEST_CASE("digest set: first line kept, many keys, no false duplicates", "[cli][batch]") {
  DigestSet set;
  CHECK_FALSE(set.insert("a", 1));
  CHECK_FALSE(set.insert("b", 2));
  CHECK(set.insert("a", 3) == 1u);
  for (std::uint32_t i = 0; i < 200'000; ++i) REQUIRE_FALSE(set.insert("key-" + std::to_string(i), i + 10));
  CHECK(set.size() == 200'002);
  CHECK(set.insert("key-123456", 1) == 123466u);
  CHECK(set.insert("b", 9) == 2u);
}

TEST_CASE("url without userinfo", "[cli][batch]") {
  CHECK(url_without_userinfo("https://u:p@h:1/a@b") == "https://h:1/a@b");
  CHECK(url_without_userinfo("https://h/a@b") == "https://h/a@b");
  CHECK(url_without_userinfo("http://u@h") == "http://h");
}

TEST_CASE("prepare_entry: paths resolved, sources and directories checked, identity", "[cli][batch]") {
  test::TempDir dir("xfer-batch-entry");
  const auto source = dir / "src.bin";
  std::ofstream(source) << "hello";
  BatchDefaults defaults;
  defaults.headers = {{"X-All", "1"}};

  ManifestEntry down;
  down.line = 7;
  down.direction = Direction::Download;
  down.url = "https://h/files/name.bin?x=1";
  down.file = (dir / "sub" / ".." / "out/").string();
  fs::create_directories(dir / "out");
  auto p = prepare_entry(down, defaults);
  REQUIRE(p);
  CHECK(p->info.path == (dir / "out" / "name.bin").string());
  CHECK(p->info.line == 7);
  const auto& spec = std::get<DownloadSpec>(p->spec);
  CHECK(spec.destination == p->info.path);
  CHECK(spec.headers == HeaderList{{"X-All", "1"}});

  ManifestEntry again = down;
  again.line = 9;
  again.file = (dir / "out" / "name.bin").string();
  auto q = prepare_entry(again, defaults);
  REQUIRE(q);
  CHECK(q->identity == p->identity);
  again.priority = 1;
  CHECK(prepare_entry(again, defaults)->identity != p->identity);

  ManifestEntry missing_dir = down;
  missing_dir.file = (dir / "nope" / "f").string();
  auto m = prepare_entry(missing_dir, defaults);
  REQUIRE_FALSE(m);
  CHECK(m.error().category() == ErrorCategory::LocalIo);

  ManifestEntry into_dir = down;
  into_dir.file = (dir / "out").string();
  CHECK_FALSE(prepare_entry(into_dir, defaults));

  ManifestEntry up;
  up.direction = Direction::Upload;
  up.url = "http://h/files/up";
  up.file = source.string();
  auto u = prepare_entry(up, defaults);
  REQUIRE(u);
  CHECK(std::get<UploadSpec>(u->spec).source == source.string());
  up.file = (dir / "absent").string();
  auto absent = prepare_entry(up, defaults);
  REQUIRE_FALSE(absent);
  CHECK(absent.error().category() == ErrorCategory::LocalIo);
  up.file = dir.path().string();
  auto directory = prepare_entry(up, defaults);
  REQUIRE_FALSE(directory);
  CHECK(directory.error().category() == ErrorCategory::InvalidArgument);

  defaults.protocol = HttpVersion::Http3;
  ManifestEntry plain = down;
  plain.url = "http://h/a";
  CHECK_FALSE(prepare_entry(plain, defaults));
}
