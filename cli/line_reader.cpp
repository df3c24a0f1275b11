#include "cli/line_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <poll.h>
#include <unistd.h>

namespace xfer::cli {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

class FdSource final : public ByteSource {
 public:
  FdSource(int fd, std::function<bool()> stop) : fd_(fd), stop_(std::move(stop)) {}

  Result<std::size_t> read(char* buffer, std::size_t size) override {
    for (;;) {
      if (stop_ && stop_()) return fail(ErrorCategory::Cancelled, "interrupted while reading the manifest");
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, 200);
      if (ready < 0 && errno != EINTR) return std::unexpected(error_from_errno(errno, "waiting for the manifest"));
      if (ready == 0 && idle_) idle_();
      if (ready <= 0) continue;
      const auto n = ::read(fd_, buffer, size);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR && errno != EAGAIN) return std::unexpected(error_from_errno(errno, "reading the manifest"));
    }
  }

  void set_idle(std::function<void()> idle) override { idle_ = std::move(idle); }

 private:
  int fd_;
  std::function<bool()> stop_;
  std::function<void()> idle_;
};

class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string text) : text_(std::move(text)) {}
  Result<std::size_t> read(char* buffer, std::size_t size) override {
    // Small, uneven pieces: the reader must not depend on where reads end.
    const std::size_t n = std::min({size, text_.size() - pos_, std::size_t{7}});
    std::memcpy(buffer, text_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::unique_ptr<ByteSource> fd_source(int fd, std::function<bool()> stop) {
  return std::make_unique<FdSource>(fd, std::move(stop));
}

std::unique_ptr<ByteSource> string_source(std::string text) {
  return std::make_unique<StringSource>(std::move(text));
}

LineReader::LineReader(ByteSource& source, std::size_t max_line) : source_(source), max_line_(max_line) {}

bool LineReader::fill() {
  if (eof_ || error_) return false;
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  const std::size_t old = buffer_.size();
  buffer_.resize(old + kChunk);
  auto n = source_.read(buffer_.data() + old, kChunk);
  buffer_.resize(old + (n ? *n : 0));
  if (!n) {
    error_ = n.error();
    return false;
  }
  if (*n == 0) eof_ = true;
  return *n > 0;
}

std::optional<Line> LineReader::next() {
  bool skipping = false;  // inside a line already known to be too long
  for (;;) {
    const auto newline = buffer_.find('\n', pos_);
    if (newline != std::string::npos) {
      Line line;
      line.number = ++number_;
      if (skipping || newline - pos_ > max_line_ + 1) {
        line.too_long = true;
      } else {
        line.text.assign(buffer_, pos_, newline - pos_);
        if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
        line.too_long = line.text.size() > max_line_;
        if (line.too_long) line.text.clear();
      }
      pos_ = newline + 1;
      return line;
    }
    if (buffer_.size() - pos_ > max_line_ + 1) {
      // No newline within the limit: drop what is held and skip to the line's end.
      skipping = true;
      buffer_.clear();
      pos_ = 0;
    }
    if (!fill()) {
      if (error_) return std::nullopt;
      if (!skipping && pos_ == buffer_.size()) return std::nullopt;
      Line line;
      line.number = ++number_;
      line.too_long = skipping;
      if (!skipping) {
        line.text.assign(buffer_, pos_);
        if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
        line.too_long = line.text.size() > max_line_;
        if (line.too_long) line.text.clear();
      }
      buffer_.clear();
      pos_ = 0;
      return line;
    }
  }
}

}  // namespace xfer::cli
