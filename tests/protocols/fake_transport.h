// Scripted stand-ins for the protocols/ transport tests: a Transport whose streams the test
// drives by calling their sinks (as a real transport's callbacks would), and a caller's sink
// that records what it heard and checks the order of the callbacks.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocols/transport.h"

namespace xfer::protocols {

struct FakeLog {
  std::vector<std::string> violations;
  std::vector<HttpRequest> requests;
};

class FakeStream final : public HttpStream {
 public:
  FakeStream(ExchangeSink& sink, std::shared_ptr<FakeLog> log) : sink(sink), log(std::move(log)) {}
  ~FakeStream() override {
    if (in_callback) log->violations.push_back("inner stream destroyed inside its own callback");
    *gone = true;
  }
  void pause_receive() override { paused = true; }
  void resume_receive() override { paused = false; }
  void resume_send() override { ++send_resumes; }
  std::string negotiated_protocol() const override { return protocol; }
  bool connection_ready() const override { return ready; }

  ExchangeSink& sink;
  std::shared_ptr<FakeLog> log;
  std::string protocol = "fake/1";
  bool ready = true;  // what connection_ready() says
  bool paused = false;
  int send_resumes = 0;
  bool in_callback = false;
  std::shared_ptr<bool> gone = std::make_shared<bool>(false);
};

class FakeTransport final : public Transport {
 public:
  Result<std::unique_ptr<HttpStream>> start(const HttpRequest& request,
                                            ExchangeSink& sink) override {
    log->requests.push_back(request);
    if (refuse_next) return fail(ErrorCategory::InvalidArgument, "fake refuses");
    auto stream = std::make_unique<FakeStream>(sink, log);
    stream->protocol = protocol;
    stream->ready = streams_ready;
    streams.push_back(stream.get());
    gone.push_back(stream->gone);
    return std::unique_ptr<HttpStream>(std::move(stream));
  }
  TransportCapabilities capabilities() const override { return {true, 7}; }

  std::shared_ptr<FakeLog> log = std::make_shared<FakeLog>();
  std::vector<FakeStream*> streams;
  std::vector<std::shared_ptr<bool>> gone;
  bool refuse_next = false;
  std::string protocol = "fake/1";  // what its streams negotiate
  bool streams_ready = true;        // their connection_ready()
};

// The caller's sink: records and checks order; hooks let a test act from inside callbacks.
class Sink final : public ExchangeSink {
 public:
  void on_interim(const ResponseHeaders& h) override {
    if (head) violations.push_back("interim after head");
    interims.push_back(h.status);
  }
  void on_response_head(const ResponseHeaders& h) override {
    if (head) violations.push_back("second head");
    head = h;
    if (head_hook) head_hook();
  }
  BodyAction on_body(std::span<const std::uint8_t> data) override {
    if (!head) violations.push_back("body before head");
    body.append(data.begin(), data.end());
    return body_hook ? body_hook() : BodyAction::Continue;
  }
  BodyRead read_body(std::span<std::uint8_t> buffer) override {
    ++reads;
    return {std::min<std::size_t>(buffer.size(), 1), false};
  }
  void on_complete(Result<void> o) override {
    if (outcome) violations.push_back("second on_complete");
    outcome = std::move(o);
    if (complete_hook) complete_hook();
  }
  bool can_replay_body() const override { return replayable; }
  bool rewind_body() override {
    ++rewinds;
    return rewind_ok;
  }

  std::vector<int> interims;
  std::optional<ResponseHeaders> head;
  std::string body;
  std::optional<Result<void>> outcome;
  std::vector<std::string> violations;
  int reads = 0;
  bool replayable = false;
  bool rewind_ok = true;
  int rewinds = 0;
  std::function<void()> head_hook;
  std::function<BodyAction()> body_hook;
  std::function<void()> complete_hook;
};

inline ResponseHeaders head(int status, std::optional<std::string> location = {}) {
  ResponseHeaders h;
  h.status = status;
  if (location) h.fields.emplace_back("location", *location);
  return h;
}

}  // namespace xfer::protocols
