// Named crash points: a test-only hook that kills the process (SIGKILL, no cleanup, like a
// power cut to the process) at one chosen durability step, so a test can crash at every step
// of a download deterministically and check the invariants after reopening (design.md 1, 2, 5).
//
// Armed by the environment: XFER_CRASH_AT=<name> kills at the first time that point is
// reached, XFER_CRASH_AT=<name>:<n> at the n-th time. Unset (every real run), a crash point
// costs one load of a cached flag. Names: docs/engine.md ("Crash points").
#pragma once

#include <string_view>

namespace xfer {

void crash_point(std::string_view name);

}  // namespace xfer
