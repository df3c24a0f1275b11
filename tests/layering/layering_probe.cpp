// One include, compiled by tests/layering/CMakeLists.txt as a target with given links: whether
// it compiles is the test.
#include XFER_PROBE_HEADER
