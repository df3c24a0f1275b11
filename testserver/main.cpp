// Placeholder until the transports land: prints usage.
#include <cstdio>
int main() {
  std::fprintf(stderr, "xfer-testserver: not implemented yet\n");
  return 2;
}
