#include "protocols/h3/h3_stream.h"

#include <fmt/format.h>

#include "base/ascii.h"
#include "protocols/h3/h3_connection.h"

namespace xfer::protocols::h3 {

H3Stream::H3Stream(std::shared_ptr<H3Connection> connection, HttpRequest request, ExchangeSink& sink,
                   std::size_t max_header_bytes)
    : connection_(std::move(connection)),
      request_(std::move(request)),
      sink_(sink),
      max_header_bytes_(max_header_bytes) {}

H3Stream::~H3Stream() {
  completed_ = true;  // no callback reaches the sink from here on
  connection_->detach(*this);
}

bool H3Stream::connection_ready() const { return connection_->handshake_done(); }

void H3Stream::resume_receive() {
  if (!paused_) return;
  paused_ = false;
  connection_->resume_receive(*this);
}

void H3Stream::resume_send() { connection_->resume_send(*this); }

void H3Stream::begin_headers() {
  block_ = ResponseHeaders{};
}

Result<void> H3Stream::add_header(std::string_view name, std::string_view value) {
  header_bytes_ += name.size() + value.size() + 32;  // HPACK/QPACK's accounting
  if (header_bytes_ > max_header_bytes_)
    return fail(ErrorCategory::Protocol,
                fmt::format("the response's header fields exceed {} bytes", max_header_bytes_));
  if (name == ":status") {
    int status = 0;
    if (value.size() != 3) return fail(ErrorCategory::Protocol, fmt::format("bad :status '{:.20}'", value));
    for (const char c : value) {
      if (c < '0' || c > '9') return fail(ErrorCategory::Protocol, fmt::format("bad :status '{:.20}'", value));
      status = status * 10 + (c - '0');
    }
    block_.status = status;
    return {};
  }
  if (!name.empty() && name.front() == ':') return {};  // other pseudo-fields say nothing to us
  block_.fields.emplace_back(ascii_lower(name), std::string(value));
  return {};
}

Result<void> H3Stream::end_headers() {
  if (final_seen_) return {};  // trailers (no :status): nothing in them is needed
  if (block_.status == 0) return fail(ErrorCategory::Protocol, "a response header block without :status");
  if (block_.status < 200) {
    sink_.on_interim(block_);
    return {};
  }
  final_seen_ = true;
  sink_.on_response_head(block_);
  return {};
}

void H3Stream::complete(Result<void> outcome) {
  if (completed_) return;
  completed_ = true;
  sink_.on_complete(std::move(outcome));
}

}  // namespace xfer::protocols::h3
