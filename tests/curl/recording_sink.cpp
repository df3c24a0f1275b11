#include "tests/curl/recording_sink.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "tests/support/files.h"

namespace xfer::test {

using protocols::BodyAction;
using protocols::BodyRead;
using protocols::ResponseHeaders;

void RecordingSink::on_interim(const ResponseHeaders& interim) {
  if (head || outcome) violations.push_back("on_interim after the final head or completion");
  interims.push_back(interim);
}

void RecordingSink::on_response_head(const ResponseHeaders& h) {
  if (head) violations.push_back("second on_response_head");
  if (outcome) violations.push_back("on_response_head after on_complete");
  head = h;
  ++head_count;
}

BodyAction RecordingSink::on_body(std::span<const std::uint8_t> data) {
  if (!head) violations.push_back("on_body before on_response_head");
  if (outcome) violations.push_back("on_body after on_complete");
  if (data.empty()) violations.push_back("empty on_body");
  ++body_calls;
  body.insert(body.end(), data.begin(), data.end());
  return body_hook ? body_hook(data) : BodyAction::Continue;
}

BodyRead RecordingSink::read_body(std::span<std::uint8_t> buffer) {
  if (outcome) violations.push_back("read_body after on_complete");
  if (read_hook) return read_hook(buffer);
  const std::size_t n = std::min(buffer.size(), upload.size() - upload_offset);
  std::memcpy(buffer.data(), upload.data() + upload_offset, n);
  upload_offset += n;
  return BodyRead{n, false};
}

void RecordingSink::on_complete(Result<void> o) {
  if (outcome) violations.push_back("second on_complete");
  outcome = std::move(o);
  ++complete_count;
}

std::string RecordingSink::body_sha256() const { return sha256_hex(body.data(), body.size()); }

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    // Nothing queued makes run_one_for return at once; don't spin.
    if (io.run_one_for(std::chrono::milliseconds(50)) == 0 && io.stopped()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return done();
}

void run_for(boost::asio::io_context& io, std::chrono::milliseconds duration) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    if (io.run_one_for(std::chrono::milliseconds(10)) == 0 && io.stopped()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

}  // namespace xfer::test
