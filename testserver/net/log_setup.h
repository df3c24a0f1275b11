// Logging for xfer-testserver: everything on stderr (stdout carries only the ready line).
// --log json writes one JSON object per line ({"time","level","msg"}, msg escaped), so tests
// and tools can parse the log; otherwise a short human format.
#pragma once

namespace xts::net {

void setup_logging(bool json);

}  // namespace xts::net
