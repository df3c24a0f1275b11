#include "protocols/h3/request_body.h"

#include <algorithm>

#include <fmt/format.h>

namespace xfer::protocols::h3 {

namespace {
// One read from the sink: large enough that a pread and a vector per chunk cost little, small
// enough that the limit is approached in fine steps.
constexpr std::size_t kChunk = 128 << 10;
}  // namespace

RequestBody::RequestBody(std::uint64_t length, std::size_t limit, ExchangeSink* sink)
    : length_(length), limit_(std::max(limit, kChunk)), sink_(sink) {}

RequestBody::Filled RequestBody::fill(nghttp3_vec* vec, std::size_t count) {
  Filled out;
  if (error_) {
    out.outcome = Fill::Failed;
    return out;
  }
  while (out.vectors < count) {
    if (handed_chunks_ < queue_.size()) {
      auto& chunk = queue_[handed_chunks_++];
      vec[out.vectors].base = chunk.data();
      vec[out.vectors].len = chunk.size();
      ++out.vectors;
      continue;
    }
    if (read_ == length_ || !sink_ || sink_paused_) break;
    if (queued_bytes_ >= limit_) {
      blocked_on_limit_ = true;
      break;
    }
    const std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>({kChunk, length_ - read_, limit_ - queued_bytes_}));
    std::vector<std::uint8_t> chunk(want);
    const BodyRead got = sink_->read_body(chunk);
    if (got.bytes > want) {
      error_ = Error(ErrorCategory::Internal, "read_body returned more bytes than asked");
      out.outcome = Fill::Failed;
      return out;
    }
    if (got.bytes == 0 && !got.pause) {
      // The server would wait forever for the rest of the announced length.
      error_ = Error(ErrorCategory::LocalIo,
                     fmt::format("request body ended after {} of {} bytes", read_, length_));
      out.outcome = Fill::Failed;
      return out;
    }
    if (got.bytes > 0) {
      chunk.resize(got.bytes);
      read_ += got.bytes;
      queued_bytes_ += got.bytes;
      queue_.push_back(std::move(chunk));
    }
    if (got.pause) sink_paused_ = true;
  }
  out.eof = read_ == length_ && handed_chunks_ == queue_.size();
  out.outcome = out.vectors > 0 || out.eof ? Fill::Data : Fill::Blocked;
  return out;
}

bool RequestBody::acked(std::uint64_t bytes) {
  acked_ += bytes;
  std::uint64_t left = bytes;
  while (left > 0 && !queue_.empty()) {
    const std::size_t rest = queue_.front().size() - front_acked_;
    if (left < rest) {
      front_acked_ += static_cast<std::size_t>(left);
      break;
    }
    left -= rest;
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    front_acked_ = 0;
    if (handed_chunks_ > 0) --handed_chunks_;
  }
  if (blocked_on_limit_ && queued_bytes_ < limit_) {
    blocked_on_limit_ = false;
    return true;
  }
  return false;
}

}  // namespace xfer::protocols::h3
