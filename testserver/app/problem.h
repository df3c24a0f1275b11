// RFC 9457 problem documents. The resumable-upload problem types use their registered URIs;
// other errors are `about:blank` with a machine-readable "code" member.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "testserver/exchange.h"

namespace xts {

inline constexpr std::string_view kProblemMismatchingOffset =
    "https://iana.org/assignments/http-problem-types#mismatching-upload-offset";
inline constexpr std::string_view kProblemCompletedUpload =
    "https://iana.org/assignments/http-problem-types#completed-upload";
inline constexpr std::string_view kProblemInconsistentLength =
    "https://iana.org/assignments/http-problem-types#inconsistent-upload-length";

// type: a URI (contains ':') or a short code (becomes about:blank + "code").
// extra_json: further members, already JSON ("\"expected-offset\":5").
void send_problem(const std::shared_ptr<Exchange>& ex, int status, std::string_view type,
                  std::string_view title, Headers headers = {}, std::string_view extra_json = {});

}  // namespace xts
