#include <catch2/catch.hpp>

#include "protocols/download/range_decision.h"

using namespace xfer::protocols;

namespace {

constexpr const char* kDate = "Wed, 01 Jan 2025 12:00:00 GMT";
constexpr const char* kOldLm = "Wed, 01 Jan 2025 11:00:00 GMT";    // an hour before Date
constexpr const char* kFreshLm = "Wed, 01 Jan 2025 11:59:30 GMT";  // 30 s before Date

Validators strong_etag(std::string etag = "\"v1\"") { return Validators{etag, kOldLm, kDate, {}}; }

RangeAsk resume_at(std::uint64_t offset, std::optional<std::uint64_t> total = 1000,
                   Validators held = strong_etag()) {
  RangeAsk ask;
  ask.offset = offset;
  ask.known_length = total;
  ask.held = std::move(held);
  return ask;
}

RangeResponse partial(std::uint64_t first, std::uint64_t last, std::uint64_t total,
                      std::optional<std::string> etag = "\"v1\"") {
  RangeResponse r;
  r.status = 206;
  r.content_range = "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(total);
  r.content_length = std::to_string(last - first + 1);
  r.etag = std::move(etag);
  r.date = kDate;
  return r;
}

RangeResponse full(std::uint64_t total, std::optional<std::string> etag = "\"v1\"") {
  RangeResponse r;
  r.status = 200;
  r.content_length = std::to_string(total);
  r.etag = std::move(etag);
  r.last_modified = kOldLm;
  r.date = kDate;
  r.accept_ranges = "bytes";
  return r;
}

}  // namespace

TEST_CASE("entity tags", "[range]") {
  CHECK(parse_entity_tag("\"abc\"") == EntityTag{false, "abc"});
  CHECK(parse_entity_tag("W/\"abc\"") == EntityTag{true, "abc"});
  CHECK(parse_entity_tag("\"\"") == EntityTag{false, ""});
  for (const char* bad : {"abc", "\"abc", "w/\"abc\"", "W/abc", "\"a\"b\"", "\"a b\"", "", "\""}) {
    INFO(bad);
    CHECK_FALSE(parse_entity_tag(bad));
  }
}

TEST_CASE("If-Range prefers a strong ETag and never sends a weak one", "[range]") {
  CHECK(choose_if_range(strong_etag()) == "\"v1\"");
  // A weak ETag disqualifies If-Range entirely: no date may be used while an ETag is held.
  CHECK_FALSE(choose_if_range(Validators{"W/\"v1\"", kOldLm, kDate, {}}));
  CHECK_FALSE(choose_if_range(Validators{"garbage", kOldLm, kDate, {}}));
}

TEST_CASE("If-Range uses Last-Modified only when it is strong (60 s before Date)", "[range]") {
  CHECK(choose_if_range(Validators{{}, kOldLm, kDate, {}}) == kOldLm);
  CHECK(choose_if_range(Validators{{}, "Wed, 01 Jan 2025 11:59:00 GMT", kDate, {}}) ==
        "Wed, 01 Jan 2025 11:59:00 GMT");
  CHECK_FALSE(choose_if_range(Validators{{}, kFreshLm, kDate, {}}));
  CHECK_FALSE(choose_if_range(Validators{{}, kOldLm, {}, {}}));            // no Date
  CHECK_FALSE(choose_if_range(Validators{{}, "yesterday", kDate, {}}));    // unparsable
  CHECK_FALSE(choose_if_range(Validators{{}, kOldLm, "garbage", {}}));
  CHECK_FALSE(choose_if_range(Validators{}));
}

TEST_CASE("building the ranged request", "[range]") {
  RangeAsk plain;
  auto h = build_range_request(plain);
  CHECK_FALSE(h.range);
  CHECK_FALSE(h.if_range);
  CHECK(h.validated);

  h = build_range_request(resume_at(500));
  CHECK(h.range == "bytes=500-");
  CHECK(h.if_range == "\"v1\"");
  CHECK(h.validated);

  RangeAsk segment = resume_at(100);
  segment.last = 199;
  h = build_range_request(segment);
  CHECK(h.range == "bytes=100-199");

  h = build_range_request(resume_at(500, 1000, Validators{"W/\"x\"", {}, {}, {}}));
  CHECK(h.range == "bytes=500-");
  CHECK_FALSE(h.if_range);
  CHECK_FALSE(h.validated);  // caller must restart instead of splicing unvalidated bytes
}

TEST_CASE("Continue: 206 at our offset with the same strong validator", "[range]") {
  const auto d = judge_range_response(resume_at(400), partial(400, 999, 1000));
  CHECK(d.outcome == RangeOutcome::Continue);
  CHECK(d.write_offset == 400);
  CHECK(d.body_length == 600u);
  CHECK(d.total_length == 1000u);
  CHECK(d.resumable);
  CHECK(d.validators.etag == "\"v1\"");

  SECTION("206 without ETag trusts the server's If-Range evaluation and keeps our validators") {
    const auto e = judge_range_response(resume_at(400), partial(400, 999, 1000, std::nullopt));
    CHECK(e.outcome == RangeOutcome::Continue);
    CHECK(e.validators == strong_etag());
  }
  SECTION("a short 206 (server sent less) is fine; the rest is asked for later") {
    const auto e = judge_range_response(resume_at(400), partial(400, 499, 1000));
    CHECK(e.outcome == RangeOutcome::Continue);
    CHECK(e.body_length == 100u);
  }
  SECTION("unknown complete length '*'") {
    auto r = partial(400, 999, 1000);
    r.content_range = "bytes 400-999/*";
    const auto e = judge_range_response(resume_at(400), r);
    CHECK(e.outcome == RangeOutcome::Continue);
    CHECK(e.total_length == 1000u);  // still known from before
  }
  SECTION("a segment") {
    RangeAsk ask = resume_at(100);
    ask.last = 199;
    const auto e = judge_range_response(ask, partial(100, 199, 1000));
    CHECK(e.outcome == RangeOutcome::Continue);
    CHECK(e.body_length == 100u);
  }
  SECTION("Last-Modified validator") {
    RangeAsk ask = resume_at(400, 1000, Validators{{}, kOldLm, kDate, {}});
    auto r = partial(400, 999, 1000, std::nullopt);
    r.last_modified = "Wednesday, 01-Jan-25 11:00:00 GMT";  // same instant, other format
    CHECK(judge_range_response(ask, r).outcome == RangeOutcome::Continue);
  }
  SECTION("plain GET 200 is a fresh start") {
    const auto e = judge_range_response(RangeAsk{}, full(1000));
    CHECK(e.outcome == RangeOutcome::Continue);
    CHECK(e.write_offset == 0);
    CHECK(e.total_length == 1000u);
    CHECK(e.resumable);
    auto none = full(1000);
    none.accept_ranges = "none";
    CHECK_FALSE(judge_range_response(RangeAsk{}, none).resumable);
    CHECK_FALSE(judge_range_response(RangeAsk{}, full(1000, "W/\"weak\"")).resumable);
  }
}

TEST_CASE("Restart: 200 instead of 206, or the representation changed", "[range]") {
  SECTION("server ignores ranges") {
    const auto d = judge_range_response(resume_at(400), full(1000));
    CHECK(d.outcome == RangeOutcome::Restart);
    CHECK(d.reason == RangeReason::RangesIgnored);
    CHECK(d.body_is_full_representation);
    CHECK(d.write_offset == 0);
    CHECK(d.total_length == 1000u);
    CHECK_FALSE(d.detail.empty());
  }
  SECTION("If-Range failed: 200 with a new ETag") {
    const auto d = judge_range_response(resume_at(400), full(1200, "\"v2\""));
    CHECK(d.outcome == RangeOutcome::Restart);
    CHECK(d.reason == RangeReason::ValidatorChanged);
    CHECK(d.body_is_full_representation);
    CHECK(d.validators.etag == "\"v2\"");
    CHECK(d.detail.find("v2") != std::string::npos);
  }
  SECTION("206 carrying another ETag: never splice, ask again from zero") {
    const auto d = judge_range_response(resume_at(400), partial(400, 999, 1000, "\"v2\""));
    CHECK(d.outcome == RangeOutcome::Restart);
    CHECK(d.reason == RangeReason::ValidatorChanged);
    CHECK_FALSE(d.body_is_full_representation);
  }
  SECTION("206 with a changed Last-Modified") {
    RangeAsk ask = resume_at(400, 1000, Validators{{}, kOldLm, kDate, {}});
    auto r = partial(400, 999, 1000, std::nullopt);
    r.last_modified = "Thu, 02 Jan 2025 11:00:00 GMT";
    const auto d = judge_range_response(ask, r);
    CHECK(d.outcome == RangeOutcome::Restart);
    CHECK(d.reason == RangeReason::ValidatorChanged);
  }
  SECTION("206 with a changed Content-Encoding") {
    auto r = partial(400, 999, 1000);
    r.content_encoding = "gzip";
    const auto d = judge_range_response(resume_at(400), r);
    CHECK(d.outcome == RangeOutcome::Restart);
    CHECK(d.reason == RangeReason::ValidatorChanged);
    Validators gz = strong_etag();
    gz.content_encoding = "GZIP";
    CHECK(judge_range_response(resume_at(400, 1000, gz), r).outcome == RangeOutcome::Continue);
  }
  SECTION("206 to a resume we could not validate") {
    const auto d = judge_range_response(resume_at(400, 1000, Validators{{}, kFreshLm, kDate, {}}),
                                        partial(400, 999, 1000, std::nullopt));
    CHECK(d.outcome == RangeOutcome::Restart);
    CHECK(d.reason == RangeReason::Unvalidated);
  }
  SECTION("416 whose length is below what we hold") {
    RangeResponse r;
    r.status = 416;
    r.content_range = "bytes */300";
    const auto d = judge_range_response(resume_at(400, std::nullopt), r);
    CHECK(d.outcome == RangeOutcome::Restart);
    CHECK(d.reason == RangeReason::LengthChanged);
  }
  SECTION("416 whose length differs from what we knew") {
    RangeResponse r;
    r.status = 416;
    r.content_range = "bytes */1000";
    const auto d = judge_range_response(resume_at(1000, 2000), r);
    CHECK(d.outcome == RangeOutcome::Restart);
    CHECK(d.reason == RangeReason::LengthChanged);
  }
  SECTION("416 with a new ETag") {
    RangeResponse r;
    r.status = 416;
    r.content_range = "bytes */1000";
    r.etag = "\"v2\"";
    const auto d = judge_range_response(resume_at(1000), r);
    CHECK(d.outcome == RangeOutcome::Restart);
    CHECK(d.reason == RangeReason::ValidatorChanged);
  }
  SECTION("416 without a usable Content-Range") {
    RangeResponse r;
    r.status = 416;
    CHECK(judge_range_response(resume_at(1000), r).reason == RangeReason::Unvalidated);
    r.content_range = "bytes 0-1/1000";
    CHECK(judge_range_response(resume_at(1000), r).outcome == RangeOutcome::Restart);
  }
}

TEST_CASE("AlreadyComplete: 416 with bytes */our size", "[range]") {
  RangeResponse r;
  r.status = 416;
  r.content_range = "bytes */1000";
  r.etag = "\"v1\"";
  auto d = judge_range_response(resume_at(1000), r);
  CHECK(d.outcome == RangeOutcome::AlreadyComplete);
  CHECK(d.total_length == 1000u);
  CHECK(d.body_length == 0u);
  // Size not known before (the first response had no length): still complete.
  RangeAsk ask = resume_at(1000);
  ask.known_length.reset();
  r.etag.reset();
  d = judge_range_response(ask, r);
  CHECK(d.outcome == RangeOutcome::AlreadyComplete);
  CHECK(d.validators == strong_etag());
}

TEST_CASE("ProtocolError: the server contradicts itself or us", "[range]") {
  const auto expect = [](const RangeAsk& ask, const RangeResponse& r, RangeReason reason) {
    const auto d = judge_range_response(ask, r);
    CHECK(d.outcome == RangeOutcome::ProtocolError);
    CHECK(d.reason == reason);
    CHECK_FALSE(d.detail.empty());
  };
  SECTION("206 for another range") {
    expect(resume_at(400), partial(300, 999, 1000), RangeReason::BadContentRange);
    expect(resume_at(400), partial(401, 999, 1000), RangeReason::BadContentRange);
    RangeAsk seg = resume_at(100);
    seg.last = 199;
    expect(seg, partial(100, 299, 1000), RangeReason::BadContentRange);
  }
  SECTION("Content-Range total inconsistent with what we knew") {
    expect(resume_at(400, 1000), partial(400, 1099, 1100), RangeReason::LengthChanged);
  }
  SECTION("an open-ended Content-Range past the length we knew") {
    // Found by tests/fuzz/range_decision: "bytes 1000-1999/*" against a known length of 206
    // was a Continue whose total_length (206) ended before its own first byte.
    auto r = partial(400, 1099, 1100);
    r.content_range = "bytes 400-1099/*";
    expect(resume_at(400, 1000), r, RangeReason::LengthChanged);
    auto open = partial(1000, 1999, 2000);
    open.content_range = "bytes 1000-1999/*";
    expect(resume_at(1000, 206), open, RangeReason::LengthChanged);
    r.content_range = "bytes 400-999/*";
    r.content_length = "600";
    const auto d = judge_range_response(resume_at(400, 1000), r);
    CHECK(d.outcome == RangeOutcome::Continue);
    CHECK(d.total_length == 1000u);
  }
  SECTION("Content-Length contradicting Content-Range") {
    auto r = partial(400, 999, 1000);
    r.content_length = "500";
    expect(resume_at(400), r, RangeReason::BadContentLength);
    r.content_length = "600, 601";
    expect(resume_at(400), r, RangeReason::BadContentLength);
    r.content_length = "lots";
    expect(resume_at(400), r, RangeReason::BadContentLength);
  }
  SECTION("malformed or missing Content-Range") {
    auto r = partial(400, 999, 1000);
    r.content_range.reset();
    expect(resume_at(400), r, RangeReason::BadContentRange);
    r.content_range = "bytes 400-999/100";
    expect(resume_at(400), r, RangeReason::BadContentRange);
    r.content_range = "bytes */1000";
    expect(resume_at(400), r, RangeReason::BadContentRange);
  }
  SECTION("multipart/byteranges we did not ask for") {
    auto r = partial(400, 999, 1000);
    r.content_type = "Multipart/ByteRanges; boundary=THIS";
    expect(resume_at(400), r, RangeReason::Multipart);
  }
  SECTION("weak ETag on a resumed 206, or a malformed ETag") {
    expect(resume_at(400), partial(400, 999, 1000, "W/\"v1\""), RangeReason::WeakValidator);
    expect(resume_at(400), partial(400, 999, 1000, "v1"), RangeReason::WeakValidator);
  }
  SECTION("206 to a plain GET") {
    expect(RangeAsk{}, partial(0, 999, 1000), RangeReason::UnrequestedPartial);
  }
  SECTION("416 while our bytes are inside the representation, or for a segment") {
    RangeResponse r;
    r.status = 416;
    r.content_range = "bytes */1000";
    expect(resume_at(400, std::nullopt), r, RangeReason::BadContentRange);
    RangeAsk seg = resume_at(100);
    seg.last = 199;
    expect(seg, r, RangeReason::BadContentRange);
    expect(RangeAsk{}, r, RangeReason::BadStatus);
  }
  SECTION("statuses that are not range outcomes") {
    RangeResponse r;
    r.status = 503;
    expect(resume_at(400), r, RangeReason::BadStatus);
    r.status = 304;
    expect(resume_at(400), r, RangeReason::BadStatus);
  }
}

TEST_CASE("range_response_from joins repeated fields so conflicts are visible", "[range]") {
  ResponseHeaders head;
  head.status = 206;
  head.fields = {{"content-range", "bytes 0-9/10"}, {"content-length", "10"},
                 {"content-length", "11"}, {"etag", "\"a\""}, {"date", kDate}};
  const auto r = range_response_from(head);
  CHECK(r.status == 206);
  CHECK(r.content_length == "10, 11");
  CHECK(r.etag == "\"a\"");
  CHECK_FALSE(r.last_modified);
  RangeAsk ask = resume_at(0, 10);
  ask.last = 9;
  CHECK(judge_range_response(ask, r).reason == RangeReason::BadContentLength);
  CHECK(to_string(RangeOutcome::AlreadyComplete) == "already-complete");
  CHECK(to_string(RangeReason::WeakValidator) == "weak-validator");
}
