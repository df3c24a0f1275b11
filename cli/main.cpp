#include <cstdio>
int main() {
  std::fprintf(stderr, "xfer: not implemented yet\n");
  return 2;
}
