// `xfer help VERB` and the bash completion (cli/completion/xfer.bash) run in a real bash: verbs,
// a verb's flags, `help`'s verb, all asked of the xfer binary itself.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/integration/engine_harness.h"
#include "tests/support/child_process.h"

using namespace xfer::test;

namespace {

// `bash -c PROGRAM` with LINE in its environment; its exit code and stdout (bounded: 30 s).
ChildResult run_bash(const std::string& program, const std::string& line) {
  char out_name[] = "/tmp/xfer-bash-out-XXXXXX";
  const int out_fd = ::mkstemp(out_name);
  REQUIRE(out_fd >= 0);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out_fd, STDOUT_FILENO);
    ::setenv("LINE", line.c_str(), 1);
    ::execlp("bash", "bash", "--norc", "--noprofile", "-c", program.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const int status = wait_for_exit(pid, std::chrono::seconds(30));
  ChildResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out_name);
  std::stringstream ss;
  ss << in.rdbuf();
  r.stdout_text = ss.str();
  ::close(out_fd);
  ::unlink(out_name);
  return r;
}

// What bash's completion offers for the words `line` (the last one being completed).
std::string complete(const std::string& line) {
  const std::string script = std::string(XFER_SOURCE_DIR) + "/cli/completion/xfer.bash";
  const std::string program =
      "source '" + script + "'; read -r -a COMP_WORDS <<< \"$LINE\"; "
      "[[ $LINE == *' ' ]] && COMP_WORDS+=(''); COMP_WORDS[0]='" + std::string(XFER_CLI_PATH) + "'; "
      "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _xfer; printf '%s\\n' \"${COMPREPLY[@]}\"";
  ChildResult r = run_bash(program, line);
  REQUIRE(r.exit_code == 0);
  return r.stdout_text;
}

}  // namespace

TEST_CASE("xfer help VERB prints the verb's flags, and an unknown verb is a usage error", "[cli][help]") {
  auto batch = run_cli({"help", "batch"});
  CHECK(batch.exit_code == 0);
  CHECK(batch.stdout_text.find("--max-duration") != std::string::npos);
  CHECK(batch.stdout_text.find("--concurrency") != std::string::npos);
  auto all = run_cli({"help"});
  CHECK(all.exit_code == 0);
  CHECK(all.stdout_text.find("status") != std::string::npos);
  CHECK(all.stdout_text.find("__complete") == std::string::npos);  // hidden
  auto nope = run_cli({"help", "frobnicate"});
  CHECK(nope.exit_code == 2);
  CHECK(nope.stderr_text.find("no verb \"frobnicate\"") != std::string::npos);
}

TEST_CASE("bash completion offers verbs, a verb's flags and help's verbs", "[cli][help]") {
  CHECK(complete("xfer bat") == "batch\n");
  const auto verbs = complete("xfer ");
  for (const char* v : {"get", "put", "resume", "batch", "ls", "status", "pause", "cancel", "parts", "help"}) {
    INFO(v);
    CHECK(verbs.find(std::string(v) + "\n") != std::string::npos);
  }
  CHECK(verbs.find("__complete") == std::string::npos);
  CHECK(complete("xfer batch --max-d") == "--max-duration\n");
  CHECK(complete("xfer get --http3") == "--http3-only\n--http3\n");
  CHECK(complete("xfer get --no-c") == "--no-config\n");
  CHECK(complete("xfer help sta") == "status\n");
}
