#include <catch2/catch.hpp>

#include "protocols/upload/upload_dialect.h"

using namespace xfer::protocols;

TEST_CASE("dialects exist exactly for interop 3..10", "[upload][dialect]") {
  CHECK_FALSE(dialect_for(2).has_value());
  CHECK_FALSE(dialect_for(11).has_value());
  CHECK_FALSE(dialect_for(-1).has_value());
  for (int v = kMinInteropVersion; v <= kMaxInteropVersion; ++v) {
    const auto d = dialect_for(v);
    REQUIRE(d.has_value());
    CHECK(d->interop_version == v);
    CHECK(interop_version_header(*d) ==
          std::pair<std::string, std::string>{"Upload-Draft-Interop-Version", std::to_string(v)});
  }
}

TEST_CASE("every version's wire differences", "[upload][dialect]") {
  struct Row {
    int v;
    const char* completion;
    bool inverted, allows_200, progress, media_type, limit;
    const char* lifetime;
    bool length, append_offset, append_completion, conflict_offset, limits_mandatory, get;
    bool retrieval_limit = false;
  };
  // Version map from rufh-interop-versions.md, checked against the draft text.
  const Row rows[] = {
      {3, "Upload-Incomplete", true, false, false, false, false, "", false, true, false, false, false, false},
      {4, "Upload-Complete", false, false, false, false, false, "", false, true, false, false, false, false},
      {5, "Upload-Complete", false, true, true, false, false, "", false, true, false, false, false, false},
      {6, "Upload-Complete", false, true, true, true, true, "expires", true, true, false, false, false, false},
      {7, "Upload-Complete", false, true, true, true, true, "max-age", true, false, true, true, false, false},
      {8, "Upload-Complete", false, true, true, true, true, "max-age", true, false, true, true, true, false},
      {9, "Upload-Complete", false, true, true, true, true, "max-age", true, false, true, true, true, true},
      {10, "Upload-Complete", false, true, true, true, true, "max-age", true, false, true, true, true, true, true},
  };
  for (const auto& r : rows) {
    INFO("interop " << r.v);
    const auto d = *dialect_for(r.v);
    CHECK(d.completion_field == r.completion);
    CHECK(d.completion_inverted == r.inverted);
    CHECK(d.offset_retrieval_allows_200 == r.allows_200);
    CHECK(d.progress_interims == r.progress);
    CHECK(d.patch_requires_media_type == r.media_type);
    CHECK(d.has_upload_limit == r.limit);
    CHECK(d.lifetime_limit_key == r.lifetime);
    CHECK(d.has_upload_length == r.length);
    CHECK(d.append_response_has_offset == r.append_offset);
    CHECK(d.append_response_has_completion == r.append_completion);
    CHECK(d.conflict_has_offset == r.conflict_offset);
    CHECK(d.limits_mandatory == r.limits_mandatory);
    CHECK(d.offset_retrieval_allows_get == r.get);
    CHECK(d.retrieval_has_limit == r.retrieval_limit);
    CHECK(d.retrieval_requires_completion == !r.retrieval_limit);
  }
}

TEST_CASE("completion header polarity: Upload-Incomplete (v3) vs Upload-Complete (v4+)",
          "[upload][dialect]") {
  const auto v3 = *dialect_for(3);
  const auto v4 = *dialect_for(4);
  const auto v9 = *dialect_for(9);
  using H = std::pair<std::string, std::string>;
  CHECK(completion_header(v3, true) == H{"Upload-Incomplete", "?0"});
  CHECK(completion_header(v3, false) == H{"Upload-Incomplete", "?1"});
  CHECK(completion_header(v4, true) == H{"Upload-Complete", "?1"});
  CHECK(completion_header(v9, false) == H{"Upload-Complete", "?0"});
  CHECK(parse_completion(v3, "?1") == false);
  CHECK(parse_completion(v3, "?0") == true);
  CHECK(parse_completion(v9, "?1") == true);
  CHECK(parse_completion(v9, " ?0 ") == false);
  for (const char* bad : {"1", "true", "?", "?2", "", "?1;x=(", "?1, ?0"}) {
    INFO(bad);
    CHECK_FALSE(parse_completion(v9, bad).has_value());
  }
  CHECK(parse_completion(v9, "?1;note=1") == true);  // parameters are ignored
}
