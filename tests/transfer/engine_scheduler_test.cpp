// The pure scheduler: global and per-origin limits, priorities, round-robin across origins.
#include <catch2/catch.hpp>

#include <map>

#include "transfer/engine/origin.h"
#include "transfer/engine/scheduler.h"

using namespace xfer::engine;

namespace {
auto always = [](const std::string&) { return true; };
}

TEST_CASE("scheduler: priority first, then enqueue order", "[scheduler]") {
  Scheduler s(10);
  s.add({1, 0, "a", 1});
  s.add({2, 5, "a", 2});
  s.add({3, 0, "a", 3});
  s.add({4, 5, "a", 4});
  std::vector<xfer::TransferId> order;
  while (auto c = s.next(always)) {
    order.push_back(c->id);
    s.started(c->origin);
  }
  CHECK(order == std::vector<xfer::TransferId>{2, 4, 1, 3});
  CHECK(s.active_total() == 4);
}

TEST_CASE("scheduler: the global limit caps active transfers", "[scheduler]") {
  Scheduler s(2);
  for (xfer::TransferId i = 1; i <= 5; ++i) s.add({i, 0, "a", i});
  auto a = s.next(always);
  s.started(a->origin);
  auto b = s.next(always);
  s.started(b->origin);
  CHECK_FALSE(s.next(always));
  s.finished("a");
  CHECK(s.next(always));
  CHECK(s.queued() == 2);
}

TEST_CASE("scheduler: equal priorities rotate across origins", "[scheduler]") {
  Scheduler s(100);
  xfer::TransferId id = 1;
  for (int i = 0; i < 10; ++i) s.add({id++, 0, "busy", id});
  s.add({id++, 0, "quiet1", id});
  s.add({id++, 0, "quiet2", id});
  std::vector<std::string> first;
  for (int i = 0; i < 3; ++i) {
    auto c = s.next(always);
    REQUIRE(c);
    first.push_back(c->origin);
    s.started(c->origin);
  }
  std::sort(first.begin(), first.end());
  CHECK(first == std::vector<std::string>{"busy", "quiet1", "quiet2"});
}

TEST_CASE("scheduler: an origin that is not ready is skipped, not blocking others",
          "[scheduler]") {
  Scheduler s(100);
  s.add({1, 9, "down", 1});
  s.add({2, 0, "up", 2});
  auto ready = [](const std::string& o) { return o != "down"; };
  auto c = s.next(ready);
  REQUIRE(c);
  CHECK(c->id == 2);
  CHECK_FALSE(s.next(ready));
  CHECK(s.queued() == 1);
  CHECK(s.remove(1));
  CHECK(s.queued() == 0);
}

TEST_CASE("scheduler: per-origin limit through origin_ready", "[scheduler]") {
  Scheduler s(100);
  for (xfer::TransferId i = 1; i <= 10; ++i) s.add({i, 0, "a", i});
  auto ready = [&](const std::string& o) { return s.active(o) < 3; };
  int started = 0;
  while (auto c = s.next(ready)) {
    s.started(c->origin);
    ++started;
  }
  CHECK(started == 3);
}

TEST_CASE("origin_of normalises scheme, host and default port", "[origin]") {
  CHECK(origin_of("https://Example.COM/a/b?c") == "https://example.com:443");
  CHECK(origin_of("http://example.com:8080") == "http://example.com:8080");
  CHECK(origin_of("http://user:pw@h/x") == "http://h:80");
  CHECK(origin_of("http://[::1]:99/x") == "http://[::1]:99");
  CHECK(origin_of("ftp://h/x").empty());
  CHECK(origin_of("not a url").empty());
  CHECK(origin_of("http://h:080/x") == "http://h:80");  // one parser: the port is a number
  CHECK(origin_of("http://h /x").empty());              // what the strict parser refuses
}
