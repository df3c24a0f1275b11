// xfer: the command-line shell over the engine (the composition root). `xfer get` downloads
// URLs, `xfer resume` continues everything unfinished in the journal. Exit codes: cli/exit_codes.h
// and docs/cli.md.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <xfer/engine.h>

#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/transfer_watch.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

int fail_line(int code, const std::string& reason) {
  std::fprintf(stderr, "xfer: %s\n", reason.c_str());
  return code;
}

struct CommonOptions {
  std::string journal;
  bool insecure = false;
  std::string cacert;
};

void add_common(CLI::App& cmd, CommonOptions& o) {
  cmd.add_option("--journal", o.journal, "journal directory (default $XDG_STATE_HOME/xfer)");
  auto* insecure = cmd.add_flag("--insecure,-k", o.insecure, "do not verify TLS certificates");
  cmd.add_option("--cacert", o.cacert, "CA bundle (PEM) to verify TLS peers with")
      ->excludes(insecure);
}

xfer::Result<std::unique_ptr<xfer::Engine>> open_engine(const CommonOptions& o,
                                                        xfer::EngineConfig config) {
  config.insecure = o.insecure;
  config.ca_file = o.cacert;
  const std::string dir = o.journal.empty() ? xfer::cli::default_journal_dir() : o.journal;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return xfer::Engine::open(dir, std::move(config));
}

int finish(xfer::Engine& engine, const xfer::cli::WatchOutcome& outcome) {
  auto shut = engine.shutdown();
  if (g_stop) return fail_line(xfer::cli::kExitInterrupted, "interrupted; run `xfer resume` to continue");
  if (outcome.exit_code != 0) {
    std::string reason = outcome.reason;
    if (outcome.failed > 1) reason += fmt::format(" (and {} more failed)", outcome.failed - 1);
    return fail_line(outcome.exit_code, reason);
  }
  if (!shut) return fail_line(xfer::cli::exit_code_for(shut.error().category()), shut.error().describe());
  return xfer::cli::kExitOk;
}

struct GetOptions {
  CommonOptions common;
  std::vector<std::string> urls;
  std::string output;
  std::string dir;
  std::vector<std::string> headers;
  std::uint32_t segments = 1;
  std::string limit_rate;
  std::string checkpoint_every;
  int retry = -1;
  bool http11 = false;
  bool http2 = false;
  std::string checksum;
};

int run_get(const GetOptions& o) {
  using namespace xfer;
  if (!o.output.empty() && o.urls.size() != 1)
    return fail_line(cli::kExitUsage, "-o needs exactly one URL (use -d DIR for several)");
  if (!o.checksum.empty() && o.urls.size() != 1)
    return fail_line(cli::kExitUsage, "--checksum needs exactly one URL");
  EngineConfig config;
  if (!o.limit_rate.empty()) {
    auto rate = cli::parse_rate(o.limit_rate);
    if (!rate) return fail_line(cli::kExitUsage, rate.error().message());
    config.rate_limit_per_transfer = *rate;
    config.low_speed_bytes_per_sec = std::min<std::uint64_t>(config.low_speed_bytes_per_sec, *rate / 4);
  }
  if (!o.checkpoint_every.empty()) {
    auto bytes = cli::parse_rate(o.checkpoint_every);
    if (!bytes || *bytes == 0)
      return fail_line(cli::kExitUsage, "--checkpoint-every needs a size such as 4M or 1G");
    config.checkpoint_bytes = *bytes;
  }
  if (o.retry >= 0) config.max_attempts = static_cast<std::uint32_t>(o.retry) + 1;
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& line : o.headers) {
    auto h = cli::parse_header(line);
    if (!h) return fail_line(cli::kExitUsage, h.error().message());
    headers.push_back(*h);
  }
  auto engine = open_engine(o.common, config);
  if (!engine) return fail_line(cli::exit_code_for(engine.error().category()), engine.error().describe());

  std::vector<DownloadSpec> specs;
  for (const auto& url : o.urls) {
    DownloadSpec spec;
    spec.url = url;
    spec.destination = !o.output.empty()
                           ? o.output
                           : (o.dir.empty() ? std::string(".") : o.dir) + "/" + cli::file_name_from_url(url);
    spec.destination = std::filesystem::absolute(spec.destination).lexically_normal().string();
    spec.headers = headers;
    spec.checksum = o.checksum;
    spec.segments = o.segments;
    spec.protocol = o.http11 ? ProtocolPreference::Http1_1
                    : o.http2 ? ProtocolPreference::Http2
                              : ProtocolPreference::Any;
    specs.push_back(std::move(spec));
  }
  auto enqueued = (*engine)->enqueue(std::move(specs));
  if (!enqueued) {
    (void)(*engine)->shutdown();
    return fail_line(cli::exit_code_for(enqueued.error().category()), enqueued.error().describe());
  }
  std::set<TransferId> ids(enqueued->begin(), enqueued->end());
  const auto outcome = cli::watch_transfers(**engine, ids, false, g_stop);
  return finish(**engine, outcome);
}

int run_resume(const CommonOptions& o) {
  using namespace xfer;
  auto engine = open_engine(o, EngineConfig{});
  if (!engine) return fail_line(cli::exit_code_for(engine.error().category()), engine.error().describe());
  std::set<TransferId> ids;
  for (TransferId id : (*engine)->unfinished_ids()) {
    auto st = (*engine)->status(id);
    if (st && st->state == TransferState::Paused) (void)(*engine)->resume(id);
    ids.insert(id);
  }
  const auto outcome = cli::watch_transfers(**engine, ids, true, g_stop);
  return finish(**engine, outcome);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(std::getenv("XFER_DEBUG") ? spdlog::level::debug : spdlog::level::warn);
  spdlog::set_default_logger(spdlog::stderr_logger_st("xfer"));
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"xfer: resumable downloads over HTTP/1.1 and HTTP/2"};
  app.require_subcommand(1);

  GetOptions get;
  auto* get_cmd = app.add_subcommand("get", "download URLs (resumable; see `xfer resume`)");
  get_cmd->add_option("urls", get.urls, "URLs to download")->required();
  auto* out = get_cmd->add_option("-o,--output", get.output, "write to FILE (one URL only)");
  get_cmd->add_option("-d,--dir", get.dir, "write into DIR, named after the URL")->excludes(out);
  get_cmd->add_option("-H,--header", get.headers, "extra request header 'Name: value'");
  get_cmd->add_option("--segments", get.segments, "parallel ranges per large file")
      ->check(CLI::Range(1, 16));
  get_cmd->add_option("--limit-rate", get.limit_rate, "bytes per second per transfer (K, M, G)");
  get_cmd->add_option("--checkpoint-every", get.checkpoint_every,
                      "fdatasync and journal the offset every SIZE bytes (K, M, G; default 16M)");
  get_cmd->add_option("--retry", get.retry, "retries after the first attempt")->check(CLI::Range(0, 1000));
  auto* h1 = get_cmd->add_flag("--http1.1", get.http11, "use HTTP/1.1");
  get_cmd->add_flag("--http2", get.http2, "use HTTP/2 (h2 over TLS, h2c prior knowledge on http://)")
      ->excludes(h1);
  get_cmd->add_option("--checksum", get.checksum, "expected digest ALG:HEX (sha256, sha512)");
  add_common(*get_cmd, get.common);

  CommonOptions resume;
  auto* resume_cmd = app.add_subcommand("resume", "continue every unfinished transfer in the journal");
  add_common(*resume_cmd, resume);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : xfer::cli::kExitUsage;
  }
  if (get_cmd->parsed()) return run_get(get);
  return run_resume(resume);
}
