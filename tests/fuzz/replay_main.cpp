// Replays a fuzz target's corpus without libFuzzer: every regular file under the given
// directories (or the given files) is fed once to LLVMFuzzerTestOneInput, in sorted order.
// This is what the default test suite runs (`<name>_replay tests/fuzz/corpus/<name>`), so the
// seeds and every input a fuzzing run found interesting (crash reproducers included) are
// checked on each build, with GCC and under the project's ASan build, in seconds.
// Each input is copied into a buffer of exactly its size, so an overread is caught by ASan.
#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);
// Present when built with a sanitizer: lets an ASan/UBSan report name the input too.
extern "C" __attribute__((weak)) void __sanitizer_set_death_callback(void (*callback)(void));

namespace fs = std::filesystem;

namespace {

// The input being replayed, named by the signal handler when a target aborts or crashes.
const char* g_current = nullptr;

void print_current_input() {
  if (g_current != nullptr) {
    const char prefix[] = "\n*** while replaying ";
    (void)!write(2, prefix, sizeof prefix - 1);
    (void)!write(2, g_current, __builtin_strlen(g_current));
    (void)!write(2, "\n", 1);
  }
}

void name_current_input(int sig) {
  print_current_input();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path p(argv[i]);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (const auto& entry : fs::recursive_directory_iterator(p)) {
        if (entry.is_regular_file()) inputs.push_back(entry.path());
      }
    } else if (fs::is_regular_file(p, ec)) {
      inputs.push_back(p);
    } else {
      std::fprintf(stderr, "%s: no such file or directory\n", p.c_str());
      return 2;
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "no inputs found (an empty corpus is a configuration error)\n");
    return 2;
  }
  std::sort(inputs.begin(), inputs.end());
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(print_current_input);
  for (const int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, name_current_input);
  for (const auto& path : inputs) {
    g_current = path.c_str();
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "%s: cannot read\n", path.c_str());
      return 2;
    }
    // Exactly-sized heap copy (an empty input gets a 0-byte allocation, not a null pointer).
    auto buffer = std::make_unique<std::uint8_t[]>(bytes.size());
    std::copy(bytes.begin(), bytes.end(), buffer.get());
    LLVMFuzzerTestOneInput(buffer.get(), bytes.size());
  }
  g_current = nullptr;
  std::printf("replayed %zu inputs\n", inputs.size());
  return 0;
}
