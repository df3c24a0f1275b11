// LineReader: the lines of a byte stream (a manifest file, a pipe on stdin), one at a time, in
// bounded memory. A line longer than the limit is not kept: it is reported as too long and
// skipped up to its newline, so one runaway line cannot make the reader hold the whole input.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <xfer/error.h>

namespace xfer::cli {

// Where the bytes come from. read() returns 0 at the end of the input.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual Result<std::size_t> read(char* buffer, std::size_t size) = 0;
  // Called while read() waits for input that is slow to come (a pipe): the reader's user can
  // get on with what it already has. Sources that never wait ignore it.
  virtual void set_idle(std::function<void()> idle) { (void)idle; }
};

// A file descriptor; waits for input at most a fifth of a second at a time and asks `stop`
// in between, so an interrupt is noticed while a pipe is quiet (stop() then ends the input
// with a Cancelled error); the idle hook runs after each such quiet fifth.
std::unique_ptr<ByteSource> fd_source(int fd, std::function<bool()> stop = {});
// In-memory input, for tests.
std::unique_ptr<ByteSource> string_source(std::string text);

struct Line {
  std::size_t number = 0;  // 1-based
  std::string text;        // without "\n" or "\r\n"
  bool too_long = false;   // text is empty then
};

class LineReader {
 public:
  static constexpr std::size_t kDefaultMaxLine = 64 * 1024;

  explicit LineReader(ByteSource& source, std::size_t max_line = kDefaultMaxLine);

  // The next line, or nullopt at the end (then error() says whether reading failed). A last
  // line without a newline is still a line.
  std::optional<Line> next();
  const std::optional<Error>& error() const { return error_; }

 private:
  bool fill();  // more bytes into buffer_; false at the end or on an error

  ByteSource& source_;
  std::size_t max_line_;
  std::string buffer_;
  std::size_t pos_ = 0;
  std::size_t number_ = 0;
  bool eof_ = false;
  std::optional<Error> error_;
};

}  // namespace xfer::cli
