// Assembles libcurl's header-callback lines into whole response header blocks: one status line,
// its fields (names lower-cased, values trimmed, obsolete line folding joined), then the blank
// line that ends the block. libcurl delivers every block it sees on one easy handle in order:
// 1xx interim responses (e.g. 104), the final response, and trailers.
// The collector only splits and parses; CurlStream decides what the sink hears. Pure, no I/O.
//
// It also enforces a cap on the total header bytes of one exchange (libcurl has none for
// headers; CURLOPT_MAXFILESIZE covers bodies only), so a peer cannot make us buffer without bound.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "protocols/transport.h"

namespace xfer::protocols::curl {

struct HeaderBlock {
  ResponseHeaders head;
  bool interim() const { return head.status >= 100 && head.status < 200; }
};

class ResponseHeadCollector {
 public:
  explicit ResponseHeadCollector(std::size_t max_total_bytes) : max_total_bytes_(max_total_bytes) {}

  // Feeds one line exactly as libcurl passed it (CRLF included). Returns the completed block
  // when `line` ended one, nullopt otherwise. Fails with Protocol (not retryable) when the
  // exchange's header bytes exceed the cap or a status line is malformed. Lines outside a
  // block (trailers) are counted against the cap and otherwise ignored.
  Result<std::optional<HeaderBlock>> feed(std::string_view line);

  std::size_t total_bytes() const { return total_bytes_; }

 private:
  std::size_t max_total_bytes_;
  std::size_t total_bytes_ = 0;
  bool in_block_ = false;
  HeaderBlock current_;
};

// Parses "HTTP/1.1 206 Partial Content" or "HTTP/2 200"; nullopt when it is not a status line.
std::optional<int> parse_status_line(std::string_view line);

}  // namespace xfer::protocols::curl
