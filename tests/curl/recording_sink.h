// RecordingSink: an ExchangeSink that records everything a transport tells it, checks the
// callback order the interface promises, and lets a test script pausing; plus run_until(), a
// bounded way to drive the io_context until a condition holds.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "protocols/transport.h"

namespace xfer::test {

class RecordingSink : public protocols::ExchangeSink {
 public:
  void on_interim(const protocols::ResponseHeaders& interim) override;
  void on_response_head(const protocols::ResponseHeaders& head) override;
  protocols::BodyAction on_body(std::span<const std::uint8_t> data) override;
  protocols::BodyRead read_body(std::span<std::uint8_t> buffer) override;
  void on_complete(Result<void> outcome) override;

  bool done() const { return outcome.has_value(); }
  std::string body_sha256() const;

  // Optional hooks; when unset, bodies are accepted and uploads come from `upload`.
  std::function<protocols::BodyAction(std::span<const std::uint8_t>)> body_hook;
  std::function<protocols::BodyRead(std::span<std::uint8_t>)> read_hook;

  std::vector<protocols::ResponseHeaders> interims;
  std::optional<protocols::ResponseHeaders> head;
  int head_count = 0;
  std::vector<std::uint8_t> body;
  std::size_t body_calls = 0;
  std::optional<Result<void>> outcome;
  int complete_count = 0;
  // Anything that broke the interface's ordering promises, as text (empty = none).
  std::vector<std::string> violations;

  std::vector<std::uint8_t> upload;
  std::size_t upload_offset = 0;
};

// Runs `io` until `done()` or the timeout; returns done().
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Runs `io` for a fixed time (to observe that nothing more happens).
void run_for(boost::asio::io_context& io, std::chrono::milliseconds duration);

}  // namespace xfer::test
