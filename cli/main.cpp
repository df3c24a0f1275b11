// xfer: the command-line shell over the engine (the composition root). `xfer get` downloads
// URLs, `xfer put` uploads files, `xfer batch` runs a manifest of both, `xfer resume` continues
// everything unfinished in the journal. Exit codes: cli/exit_codes.h and docs/cli.md.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <xfer/engine.h>

#include <nlohmann/json.hpp>

#include "cli/bandwidth_control.h"
#include "cli/batch_run.h"
#include "cli/control_socket.h"
#include "cli/control_verbs.h"
#include "cli/daemon.h"
#include "cli/rate_schedule.h"
#include "cli/terminal_inbox.h"
#include "cli/why.h"
#include "cli/config_file.h"
#include "cli/exit_codes.h"
#include "cli/journal_listing.h"
#include "cli/line_reader.h"
#include "cli/manifest.h"
#include "cli/options.h"
#include "cli/orphan_parts.h"
#include "cli/stdin_spool.h"
#include "cli/transfer_watch.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
// `xfer batch`: a second SIGINT/SIGTERM ends the process at once. The journal stays consistent
// (every write is an atomic synced batch; a crash is the case it is built for), and what was
// not checkpointed yet is fetched or sent again by `xfer resume`.
volatile std::sig_atomic_t g_second_signal_exits = 0;
void on_signal(int) {
  if (g_stop && g_second_signal_exits) ::_exit(xfer::cli::kExitInterrupted);
  g_stop = 1;
}
bool interrupted() { return g_stop != 0; }

int fail_line(int code, const std::string& reason) {
  std::fprintf(stderr, "xfer: %s\n", reason.c_str());
  return code;
}

// For a verb given ids: one the journal does not know is the caller's mistake, not a journal error.
int exit_code_for_lookup(const xfer::Error& e) {
  return e.category() == xfer::ErrorCategory::NotFound ? xfer::cli::kExitUsage : xfer::cli::exit_code_for(e.category());
}

struct CommonOptions {
  std::string journal;
  bool insecure = false;
  std::string cacert;
  std::vector<std::string> headers;
  std::string user;
  int retry = -1;
  std::string retry_max_time;
  std::string retry_max_wait;
  bool location_trusted = false;
  bool digest = false;
  bool no_digest = false;
};

void add_common(CLI::App& cmd, CommonOptions& o) {
  cmd.add_option("--journal", o.journal, "journal directory (default $XDG_STATE_HOME/xfer)");
  auto* insecure = cmd.add_flag("--insecure,-k", o.insecure, "do not verify TLS certificates");
  cmd.add_option("--cacert", o.cacert, "CA bundle (PEM) to verify TLS peers with")
      ->excludes(insecure);
  cmd.add_option("-H,--header", o.headers,
                 "request header 'Name: value' (secret ones are never journaled: give them "
                 "again to `xfer resume`)");
  cmd.add_option("--user,-u", o.user,
                 "USER:PASSWORD for transfers whose URL carried them (never journaled)");
  cmd.add_flag("--location-trusted", o.location_trusted,
               "send -H headers and URL credentials to other origins a redirect leads to too "
               "(never from https to http)");
  cmd.add_option("--retry", o.retry, "retries after the first attempt (default 9)")
      ->check(CLI::Range(0, 1000));
  cmd.add_option("--retry-max-time", o.retry_max_time,
                 "stop retrying this long after a transfer was queued (default 24h)");
  cmd.add_option("--retry-max-wait", o.retry_max_wait,
                 "longest single wait; a server asking for more is given up on (default 5m)");
  auto* digest = cmd.add_flag("--digest", o.digest,
                              "print each completed file's SHA-256 (its --checksum's algorithm if "
                              "given) on stdout as sha256sum does");
  cmd.add_flag("--no-digest", o.no_digest,
               "compute no digests where they are on by default (batch --json, daemon): saves "
               "hashing every byte")
      ->excludes(digest);
}

// Everything but the journal: headers, retries, secrets. On error, the usage message.
xfer::Result<void> apply_common(const CommonOptions& o, xfer::EngineConfig& config,
                                std::vector<std::pair<std::string, std::string>>& headers) {
  using namespace xfer;
  for (const auto& line : o.headers) {
    auto h = cli::parse_header(line);
    if (!h) return std::unexpected(h.error());
    headers.push_back(*h);
  }
  if (o.retry >= 0) config.max_attempts = static_cast<std::uint32_t>(o.retry) + 1;
  config.forward_headers_across_origins = o.location_trusted;
  config.report_digests = !o.no_digest && (config.report_digests || o.digest);
  if (!o.retry_max_time.empty()) {
    auto d = cli::parse_duration(o.retry_max_time);
    if (!d) return std::unexpected(d.error().with_context("--retry-max-time"));
    config.max_retry_elapsed = *d;
  }
  if (!o.retry_max_wait.empty()) {
    auto d = cli::parse_duration(o.retry_max_wait);
    if (!d) return std::unexpected(d.error().with_context("--retry-max-wait"));
    config.max_retry_wait = *d;
    config.backoff_cap = std::min(config.backoff_cap, *d);
  }
  if (!o.user.empty() && o.user.find(':') == std::string::npos)
    return fail(ErrorCategory::InvalidArgument, "--user wants USER:PASSWORD");
  // Transfers from an earlier run withheld their secrets from the journal; this run's -H and
  // --user are what the user gives back.
  Credentials supplied;
  supplied.headers = headers;
  if (!o.user.empty()) supplied.url_userinfo = cli::userinfo_from_user(o.user);
  config.credentials = [supplied](const CredentialRequest&) -> std::optional<Credentials> {
    return supplied;
  };
  return {};
}

std::string journal_dir(const CommonOptions& o) {
  return o.journal.empty() ? xfer::cli::default_journal_dir() : o.journal;
}

xfer::Result<std::unique_ptr<xfer::Engine>> open_engine(const CommonOptions& o,
                                                        xfer::EngineConfig config) {
  config.transport.insecure = o.insecure;
  config.transport.ca_file = o.cacert;
  const std::string dir = journal_dir(o);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  // The composition root: the CLI names the parts its engines run on.
  // Another xfer may hold the journal for a moment (`xfer ls`, `events` or `add` with nothing
  // running read it directly): wait for that, bounded. A run that serves the socket holds it
  // for long, so its answer ends the wait at once.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    xfer::EngineParts parts{xfer::TransportChoice::libcurl_and_http3(), xfer::JournalChoice::leveldb()};
    auto engine = xfer::Engine::open_with(dir, config, std::move(parts));
    if (engine || engine.error().category() != xfer::ErrorCategory::Journal || !engine.error().retryable() ||
        std::chrono::steady_clock::now() >= deadline ||
        xfer::cli::control_answers(dir))
      return engine;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// The journal with an engine that starts nothing: for verbs that look, queue or acknowledge
// while no run holds it (every transfer stays as it is for the next run).
xfer::Result<std::unique_ptr<xfer::Engine>> open_engine_idle(const CommonOptions& o) {
  xfer::EngineConfig config;
  config.max_active = 0;
  return open_engine(o, std::move(config));
}

// --limit-rate: a rate or a schedule (cli/rate_schedule.h); the engine opens with the rate in
// force now, and the run's BandwidthControl keeps it current.
xfer::Result<xfer::cli::RateSchedule> parse_limit_rate(const std::string& text,
                                                       const char* flag = "--limit-rate") {
  if (text.empty()) return xfer::cli::RateSchedule::constant(0);
  auto schedule = xfer::cli::RateSchedule::parse(text);
  if (!schedule) return std::unexpected(schedule.error().with_context(flag));
  return schedule;
}

// What serves `xfer ls`, `limit` and the other verbs while a run holds the journal. The socket
// goes before the bandwidth control its `limit` verb uses.
struct RunControl {
  std::unique_ptr<xfer::cli::BandwidthControl> bandwidth;
  std::unique_ptr<xfer::cli::ControlServer> server;
};

RunControl start_control(xfer::Engine& engine, const std::string& journal,
                         xfer::cli::RateSchedule whole_run = xfer::cli::RateSchedule::constant(0),
                         xfer::cli::RateSchedule per_transfer = xfer::cli::RateSchedule::constant(0)) {
  RunControl c;
  c.bandwidth = std::make_unique<xfer::cli::BandwidthControl>(engine, std::move(whole_run), std::move(per_transfer));
  c.server = xfer::cli::ControlServer::start(engine, journal, {{"limit", xfer::cli::limit_verb(*c.bandwidth)}});
  return c;
}

int finish(xfer::Engine& engine, const xfer::cli::WatchOutcome& outcome) {
  auto shut = engine.shutdown();
  if (g_stop) return fail_line(xfer::cli::kExitInterrupted, "interrupted; run `xfer resume` to continue");
  if (outcome.exit_code != 0) {
    std::string reason = outcome.reason;
    if (outcome.failed > 1) reason += fmt::format(" (and {} more did not finish)", outcome.failed - 1);
    return fail_line(outcome.exit_code, reason);
  }
  if (!shut) return fail_line(xfer::cli::exit_code_for(shut.error().category()), shut.error().describe());
  return xfer::cli::kExitOk;
}

// What --digest prints: a sha256sum line per completed file as it completes, naming `name`
// instead of the file when given ("-" for stdin).
std::function<void(const xfer::Event&)> digest_printer(bool wanted, const std::string& name = {}) {
  if (!wanted) return {};
  return [name](const xfer::Event& e) {
    const auto line = xfer::cli::digest_line(e.digest, name.empty() ? e.destination : name);
    if (line.empty()) return;
    std::fprintf(stdout, "%s\n", line.c_str());
    std::fflush(stdout);
  };
}

// Queues the specs (all or none), waits for them, and exits as the first failure says.
// `before_finish` runs once they are all done (or interrupted), while the engine still runs.
int run_specs(xfer::Engine& engine, std::vector<xfer::TransferSpec> specs, const std::string& verb,
              bool print_digests, const std::function<void(xfer::Engine&)>& before_finish = {}) {
  auto enqueued = engine.enqueue(std::move(specs));
  if (!enqueued) {
    if (before_finish) before_finish(engine);
    (void)engine.shutdown();
    return fail_line(xfer::cli::exit_code_for(enqueued.error().category()),
                     enqueued.error().describe());
  }
  std::set<xfer::TransferId> ids(enqueued->begin(), enqueued->end());
  const auto outcome =
      xfer::cli::watch_transfers(engine, ids, false, interrupted, verb, digest_printer(print_digests));
  if (before_finish) before_finish(engine);
  return finish(engine, outcome);
}

// `xfer put -`: the upload runs while stdin is copied into its spool. Input that never reached
// its end (an interrupt, a read or disk error) leaves an upload that cannot be finished: it is
// cancelled, so neither the server nor the journal keeps it.
int run_stdin_upload(xfer::Engine& engine, xfer::TransferSpec spec, const std::string& spool,
                     const std::string& journal, bool print_digest) {
  using namespace xfer;
  auto enqueued = engine.enqueue(std::move(spec));
  if (!enqueued) {
    std::error_code ec;
    std::filesystem::remove(spool, ec);
    (void)engine.shutdown();
    return fail_line(cli::exit_code_for(enqueued.error().category()), enqueued.error().describe());
  }
  const TransferId id = *enqueued;
  cli::SpoolFeeder feeder(STDIN_FILENO, spool, engine, id);
  // The watch ends with the upload, at an interrupt, or when the feeder failed (the upload would
  // wait for input that never comes).
  auto outcome = cli::watch_transfers(engine, {id}, false, [&] { return g_stop != 0 || feeder.failed(); },
                                      "xfer", digest_printer(print_digest, "-"));
  feeder.stop();
  const auto fed = feeder.wait();
  if (!fed.ended) {
    // Whatever the upload did, it cannot get the rest of the input.
    auto st = engine.status(id);
    if (st && is_unfinished(st->state)) {
      (void)engine.cancel(id);
      (void)cli::watch_transfers(engine, {id}, false, [] { return false; });
    }
    (void)cli::remove_unneeded_spools(engine, journal);
    (void)engine.shutdown();
    // The upload's own failure first: the feeder's announcements fail after it.
    if (outcome.exit_code != 0) return fail_line(outcome.exit_code, outcome.reason);
    if (fed.error && !g_stop)
      return fail_line(cli::exit_code_for(fed.error->category()),
                       fed.error->describe() + "; the upload was cancelled");
    return fail_line(cli::kExitInterrupted,
                     "interrupted while reading stdin: the rest of the input cannot be read "
                     "again, so the upload was cancelled");
  }
  (void)cli::remove_unneeded_spools(engine, journal);
  return finish(engine, outcome);
}

// --http1.1, --http2, --http3-only, --http3: one of them, for get and put alike.
struct ProtocolFlags {
  bool http11 = false;
  bool http2 = false;
  bool http3_only = false;
  bool http3 = false;
  xfer::HttpVersion chosen() const {
    using xfer::HttpVersion;
    return http11       ? HttpVersion::Http1_1
           : http2      ? HttpVersion::Http2
           : http3_only ? HttpVersion::Http3
           : http3      ? HttpVersion::Http3Preferred
                        : HttpVersion::Any;
  }
  // Checked before any byte moves (for `put -`, before stdin is read).
  std::optional<std::string> refuses(const std::string& url) const {
    if (http3_only && url.rfind("https://", 0) != 0)
      return fmt::format("--http3-only needs https:// URLs (HTTP/3 has no cleartext form): {:.200}", url);
    return std::nullopt;
  }
};

void add_protocol_flags(CLI::App& cmd, ProtocolFlags& f) {
  auto* h1 = cmd.add_flag("--http1.1", f.http11, "use HTTP/1.1");
  auto* h2 = cmd.add_flag("--http2", f.http2, "use HTTP/2 (h2 over TLS, h2c prior knowledge on http://)")
                 ->excludes(h1);
  auto* h3_only = cmd.add_flag("--http3-only", f.http3_only,
                               "use HTTP/3 over QUIC, no TCP fallback (https:// only)")
                      ->excludes(h1)
                      ->excludes(h2);
  cmd.add_flag("--http3", f.http3,
               "prefer HTTP/3; fall back to TCP within a second when QUIC does not get through")
      ->excludes(h1)
      ->excludes(h2)
      ->excludes(h3_only);
}

struct GetOptions {
  CommonOptions common;
  std::vector<std::string> urls;
  std::string output;
  bool output_given = false;
  std::string dir;
  bool dir_given = false;
  std::uint32_t segments = 1;
  std::string limit_rate;
  std::string checkpoint_every;
  ProtocolFlags protocol;
  std::string checksum;
};

int run_get(const GetOptions& o) {
  using namespace xfer;
  if (o.output_given && o.output.empty())
    return fail_line(cli::kExitUsage, "-o needs a file name");
  if (o.dir_given && o.dir.empty()) return fail_line(cli::kExitUsage, "-d needs a directory");
  if (o.output_given && o.urls.size() != 1)
    return fail_line(cli::kExitUsage, "-o needs exactly one URL (use -d DIR for several)");
  if (!o.checksum.empty() && o.urls.size() != 1)
    return fail_line(cli::kExitUsage, "--checksum needs exactly one URL");
  for (const auto& url : o.urls)
    if (auto why = o.protocol.refuses(url)) return fail_line(cli::kExitUsage, *why);
  EngineConfig config;
  auto per_transfer = parse_limit_rate(o.limit_rate);
  if (!per_transfer) return fail_line(cli::kExitUsage, per_transfer.error().message());
  config.rate_limit_per_transfer = per_transfer->now().rate;
  if (!o.checkpoint_every.empty()) {
    auto bytes = cli::parse_rate(o.checkpoint_every);
    if (!bytes || *bytes == 0)
      return fail_line(cli::kExitUsage, "--checkpoint-every needs a size such as 4M or 1G");
    config.checkpoint_bytes = *bytes;
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (auto r = apply_common(o.common, config, headers); !r)
    return fail_line(cli::kExitUsage, r.error().message());
  auto engine = open_engine(o.common, config);
  if (!engine) return fail_line(cli::exit_code_for(engine.error().category()), engine.error().describe());
  const auto control = start_control(**engine, journal_dir(o.common), cli::RateSchedule::constant(0),
                                     std::move(*per_transfer));

  std::vector<TransferSpec> specs;
  for (const auto& url : o.urls) {
    DownloadSpec spec;
    spec.url = url;
    spec.destination = o.output_given
                           ? o.output
                           : (o.dir.empty() ? std::string(".") : o.dir) + "/" + cli::file_name_from_url(url);
    spec.destination = std::filesystem::absolute(spec.destination).lexically_normal().string();
    spec.headers = headers;
    spec.checksum = o.checksum;
    spec.segments = o.segments;
    spec.protocol = o.protocol.chosen();
    specs.emplace_back(std::move(spec));
  }
  return run_specs(**engine, std::move(specs), "get", o.common.digest);
}

struct PutOptions {
  CommonOptions common;
  std::vector<std::string> args;  // FILE... URL
  std::string protocol = "ietf";
  std::uint32_t interop_version = 0;
  std::string creation = "auto";
  std::string chunk_size;
  std::string limit_rate;
  std::string checksum;
  ProtocolFlags http;
  bool restart_if_changed = false;
  std::string method = "PUT";
  bool allow_replay = false;
};

int run_put(const PutOptions& o) {
  using namespace xfer;
  if (o.args.size() < 2) return fail_line(cli::kExitUsage, "put needs FILE... URL");
  const std::string url = o.args.back();
  const std::vector<std::string> files(o.args.begin(), o.args.end() - 1);
  if (!o.checksum.empty() && files.size() != 1)
    return fail_line(cli::kExitUsage, "--checksum needs exactly one FILE");
  const bool from_stdin = std::find(files.begin(), files.end(), "-") != files.end();
  if (from_stdin && files.size() != 1)
    return fail_line(cli::kExitUsage, "`-` (stdin) must be the only FILE");
  // Checked before stdin is read: a typo must not cost the whole input.
  if (from_stdin && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return fail_line(cli::kExitUsage, fmt::format("{} is not an http:// or https:// URL", url));
  if (auto why = o.http.refuses(url)) return fail_line(cli::kExitUsage, *why);
  const auto protocol = upload_protocol_named(o.protocol);
  if (!protocol) return fail_line(cli::kExitUsage, "--protocol is ietf, tus or put");
  if (*protocol != UploadProtocol::Ietf && o.interop_version != 0)
    return fail_line(cli::kExitUsage, "--interop-version is for --protocol ietf");
  UploadCreation creation = UploadCreation::Auto;
  if (o.creation == "optimistic")
    creation = UploadCreation::Optimistic;
  else if (o.creation == "careful")
    creation = UploadCreation::Careful;
  else if (o.creation != "auto")
    return fail_line(cli::kExitUsage, "--creation is auto, optimistic or careful");
  std::uint64_t chunk = 0;
  if (!o.chunk_size.empty()) {
    auto bytes = cli::parse_rate(o.chunk_size);
    if (!bytes || *bytes == 0)
      return fail_line(cli::kExitUsage, "--chunk-size needs a size such as 4M or 1G");
    chunk = *bytes;
  }
  EngineConfig config;
  auto per_transfer = parse_limit_rate(o.limit_rate);
  if (!per_transfer) return fail_line(cli::kExitUsage, per_transfer.error().message());
  config.rate_limit_per_transfer = per_transfer->now().rate;
  std::vector<std::pair<std::string, std::string>> headers;
  if (auto r = apply_common(o.common, config, headers); !r)
    return fail_line(cli::kExitUsage, r.error().message());
  auto engine = open_engine(o.common, config);
  if (!engine) return fail_line(cli::exit_code_for(engine.error().category()), engine.error().describe());
  const std::string journal = journal_dir(o.common);
  const auto control = start_control(**engine, journal, cli::RateSchedule::constant(0), std::move(*per_transfer));
  std::string spooled;
  if (from_stdin) {
    // Under the journal's lock (held since open): no other xfer clears the spools meanwhile.
    (void)cli::remove_unneeded_spools(**engine, journal);
    auto path = cli::create_spool(journal, STDIN_FILENO);
    if (!path) {
      (void)(*engine)->shutdown();
      return fail_line(cli::exit_code_for(path.error().category()), path.error().describe());
    }
    spooled = *path;
  }
  std::vector<TransferSpec> specs;
  for (const auto& file : files) {
    UploadSpec spec;
    spec.source = std::filesystem::absolute(file == "-" ? spooled : file).lexically_normal().string();
    // Several files: URL is a collection, each file goes to URL + its name (tus: URL is the
    // creation endpoint of every file; the name travels in Upload-Metadata).
    if (files.size() == 1 || *protocol == UploadProtocol::Tus) {
      spec.url = url;
    } else {
      const std::string name = std::filesystem::path(file).filename().string();
      spec.url = url + (url.ends_with('/') ? "" : "/") + cli::percent_encode_segment(name);
    }
    spec.protocol = *protocol;
    spec.interop_version = o.interop_version;
    spec.creation = creation;
    spec.headers = headers;
    spec.checksum = o.checksum;
    spec.chunk_size = chunk;
    spec.restart_if_source_changed = o.restart_if_changed;
    spec.method = o.method;
    spec.replay_non_idempotent = o.allow_replay;
    spec.protocol_version = o.http.chosen();
    spec.source_grows = file == "-";
    specs.emplace_back(std::move(spec));
  }
  if (!from_stdin) return run_specs(**engine, std::move(specs), "put", o.common.digest);
  return run_stdin_upload(**engine, std::move(specs.front()), spooled, journal, o.common.digest);
}

// `xfer resume`: every unfinished transfer of the journal. With `only` (`xfer resume ID...` or
// `--all-paused` while nothing runs on the journal): those transfers are continued and waited
// for, as `get` waits for its own; the others of the journal run beside them, as under `get`.
struct ResumeOnly {
  std::vector<xfer::TransferId> ids;
  bool all_paused = false;
};

int run_resume(const CommonOptions& o, const std::optional<ResumeOnly>& only = std::nullopt) {
  using namespace xfer;
  EngineConfig config;
  std::vector<std::pair<std::string, std::string>> headers;
  if (auto r = apply_common(o, config, headers); !r)
    return fail_line(cli::kExitUsage, r.error().message());
  auto engine = open_engine(o, std::move(config));
  if (!engine) return fail_line(cli::exit_code_for(engine.error().category()), engine.error().describe());
  const auto control = start_control(**engine, journal_dir(o));
  std::set<TransferId> ids;
  std::vector<TransferId> cut_off;
  if (only && !only->all_paused) {
    for (TransferId id : only->ids) {
      auto st = (*engine)->status(id);
      if (!st) {
        (void)(*engine)->shutdown();
        return fail_line(exit_code_for_lookup(st.error()), st.error().describe());
      }
      if (is_terminal(st->state)) {
        (void)(*engine)->shutdown();
        return fail_line(cli::kExitUsage, fmt::format("transfer {} is {}: nothing to resume", id, to_string(st->state)));
      }
    }
  }
  auto wanted = [&](TransferId id, TransferState state) {
    if (!only) return true;
    if (only->all_paused) return state == TransferState::Paused;
    return std::find(only->ids.begin(), only->ids.end(), id) != only->ids.end();
  };
  for (TransferId id : (*engine)->unfinished_ids()) {
    auto st = (*engine)->status(id);
    if (st && st->awaiting_source_end) {
      // `xfer put -` stopped before stdin ended: the rest of the input is gone with it.
      (void)(*engine)->cancel(id);
      cut_off.push_back(id);
      std::fprintf(stderr,
                   "xfer: upload %llu read stdin and was stopped before its input ended (%llu bytes "
                   "read): it cannot be finished, so it was cancelled\n",
                   static_cast<unsigned long long>(id),
                   static_cast<unsigned long long>(st->bytes));
      ids.insert(id);
      continue;
    }
    if (st && !wanted(id, st->state)) continue;
    if (st && st->state == TransferState::Paused) (void)(*engine)->resume(id);
    ids.insert(id);
  }
  if (only && ids.empty()) {
    (void)(*engine)->shutdown();
    return fail_line(cli::kExitUsage, only->all_paused ? "no transfer is paused" : "nothing to resume");
  }
  auto outcome = cli::watch_transfers(**engine, ids, true, interrupted, "resume", digest_printer(o.digest));
  if (!cut_off.empty() && outcome.exit_code == cli::kExitOk)
    outcome = {cli::kExitCancelled,
               fmt::format("{} upload(s) from stdin could not be finished and were cancelled",
                           cut_off.size()),
               outcome.completed, outcome.failed};
  (void)cli::remove_unneeded_spools(**engine, journal_dir(o));
  if (!g_stop) {
    // A journal never forgets a transfer silently, but a journal moved aside does: say what it
    // left behind.
    if (auto orphans = cli::find_orphan_parts(**engine, {}); orphans && !orphans->empty())
      std::fprintf(stderr,
                   "xfer: note: %zu .part file(s) belong to no transfer in this journal (first: "
                   "%s); `xfer parts` lists them, `xfer parts --remove` deletes them\n",
                   orphans->size(), orphans->front().c_str());
  }
  return finish(**engine, outcome);
}

struct BatchOptions {
  CommonOptions common;
  std::string manifest;
  std::uint32_t concurrency = 0;
  std::uint32_t per_host = 0;
  std::uint32_t window = 512;
  std::string limit_rate;
  std::string max_transfer;
  std::string max_duration;
  bool json = false;
  bool dry_run = false;
  ProtocolFlags protocol;
};

int run_batch(const BatchOptions& o) {
  using namespace xfer;
  g_second_signal_exits = 1;
  EngineConfig config;
  if (o.concurrency) config.max_active = o.concurrency;
  if (o.per_host) {
    // One cap per origin whether it multiplexes or not: the user asked for at most N at once.
    config.max_active_per_origin = o.per_host;
    config.max_streams_per_origin = o.per_host;
  }
  // For the whole batch: many small transfers each under a per-transfer limit would still add
  // up to any rate.
  auto whole_run = parse_limit_rate(o.limit_rate);
  if (!whole_run) return fail_line(cli::kExitUsage, whole_run.error().message());
  config.rate_limit_global = whole_run->now().rate;
  // Progress at most once a second per transfer: --json output a script can keep up with.
  config.progress_interval = std::chrono::seconds(1);
  // --json promises a digest on every completed event (docs/cli.md).
  config.report_digests = o.json;
  std::vector<std::pair<std::string, std::string>> headers;
  if (auto r = apply_common(o.common, config, headers); !r)
    return fail_line(cli::kExitUsage, r.error().message());

  int fd = STDIN_FILENO;
  if (o.manifest != "-") {
    fd = ::open(o.manifest.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return fail_line(cli::kExitUsage, xfer::error_from_errno(errno, "manifest " + o.manifest).describe());
  } else if (::isatty(STDIN_FILENO)) {
    return fail_line(cli::kExitUsage, "`xfer batch -` reads the manifest from stdin, which is a terminal");
  }
  auto source = cli::fd_source(fd, interrupted);
  cli::ManifestReader manifest(*source);
  // Input that is no manifest at all is refused before the journal is opened.
  if (const auto& fatal = manifest.start(); fatal && fatal->category() != ErrorCategory::Cancelled)
    return fail_line(fatal->category() == ErrorCategory::InvalidArgument ? cli::kExitUsage
                                                                        : cli::exit_code_for(fatal->category()),
                     fatal->describe());
  cli::BatchSettings settings;
  settings.defaults.headers = headers;
  settings.defaults.protocol = o.protocol.chosen();
  settings.stop = interrupted;
  settings.window = o.window;
  settings.source = source.get();
  if (!o.max_transfer.empty()) {
    auto bytes = cli::parse_rate(o.max_transfer);
    if (!bytes || *bytes == 0)
      return fail_line(cli::kExitUsage, "--max-transfer: " + (bytes ? std::string("must be more than 0") : bytes.error().message()));
    settings.max_bytes = *bytes;
  }
  if (!o.max_duration.empty()) {
    auto d = cli::parse_duration(o.max_duration);
    if (!d || d->count() <= 0)
      return fail_line(cli::kExitUsage, "--max-duration: " + (d ? std::string("must be more than 0") : d.error().message()));
    settings.max_duration = *d;
  }
  cli::BatchReport report(o.json);
  report.print_digests(o.common.digest);
  if (o.dry_run) return cli::dry_run_batch(manifest, report, settings);
  auto engine = open_engine(o.common, config);
  if (!engine) return fail_line(cli::exit_code_for(engine.error().category()), engine.error().describe());
  const auto control = start_control(**engine, journal_dir(o.common), std::move(*whole_run));
  if (!o.json) {
    report.show_live(cli::stderr_display_options(**engine, "batch"));
  }
  return cli::run_batch(**engine, manifest, report, settings);
}

struct PartsOptions {
  CommonOptions common;
  std::vector<std::string> dirs;
  bool remove = false;
};

int run_parts(const PartsOptions& o) {
  using namespace xfer;
  auto engine = open_engine_idle(o.common);
  if (!engine) return fail_line(cli::exit_code_for(engine.error().category()), engine.error().describe());
  std::vector<std::string> dirs;
  for (const auto& d : o.dirs) dirs.push_back(std::filesystem::absolute(d).lexically_normal().string());
  auto orphans = cli::find_orphan_parts(**engine, dirs);
  (void)(*engine)->shutdown();
  if (!orphans) return fail_line(cli::exit_code_for(orphans.error().category()), orphans.error().describe());
  int rc = cli::kExitOk;
  for (const auto& path : *orphans) {
    if (!o.remove) {
      std::printf("%s\n", path.c_str());
      continue;
    }
    std::error_code ec;
    std::filesystem::remove(path, ec);
    if (ec) {
      std::fprintf(stderr, "xfer: local I/O: removing %s: %s\n", path.c_str(), ec.message().c_str());
      rc = cli::kExitLocalIo;
    } else {
      std::printf("removed %s\n", path.c_str());
    }
  }
  return rc;
}

struct LookOptions {
  CommonOptions common;
  std::string state;
  std::vector<xfer::TransferId> ids;
  bool all = false;
  bool json = false;
};

enum class LookVerb { Ls, Status, Pause, Cancel, Resume, Why };

// The ids a verb acts on: those given, or with --all every transfer it can still act on.
std::vector<xfer::TransferId> ids_to_act_on(const LookOptions& o, LookVerb verb,
                                            const std::vector<xfer::TransferStatus>& all) {
  using xfer::TransferState;
  if (!o.all) return o.ids;
  std::vector<xfer::TransferId> ids;
  for (const auto& st : all) {
    const bool finished = is_terminal(st.state);
    const bool fits = verb == LookVerb::Resume ? st.state == TransferState::Paused
                      : verb == LookVerb::Pause ? !finished && st.state != TransferState::Paused
                                                : !finished;
    if (fits) ids.push_back(st.id);
  }
  return ids;
}

// `xfer ls / status / pause / cancel / resume ID / why`: asked of the xfer that holds the
// journal, over its control socket; when none does, done on the journal directly (no transfer
// started) — but for `resume ID`, which only a running engine can do.
int run_look(const LookOptions& o, LookVerb verb) {
  using namespace xfer;
  std::optional<TransferState> state;
  if (!o.state.empty()) {
    state = cli::parse_state(o.state);
    if (!state)
      return fail_line(cli::kExitUsage, "--state: one of queued, active, paused, waiting, completed, failed, cancelled");
  }
  if (verb != LookVerb::Ls && o.ids.empty() && !o.all) return fail_line(cli::kExitUsage, "give an ID (or --all)");
  if (o.all && !o.ids.empty()) return fail_line(cli::kExitUsage, "give IDs or --all, not both");
  const std::string dir = journal_dir(o.common);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return fail_line(cli::kExitJournal, fmt::format("no journal at {}", dir));
  bool running = false;
  std::optional<std::string> limits;
  auto show = [&](const TransferStatus& st) {
    if (verb == LookVerb::Why) {
      cli::WhyContext context;
      context.running = running;
      context.limits = limits;
      for (const auto& line : cli::explain_transfer(st, context)) std::printf("%s\n", line.c_str());
    } else if (o.json) {
      std::printf("%s\n", cli::status_json_line(st).c_str());
    } else if (verb == LookVerb::Ls) {
      cli::print_ls_line(st, stdout);
    } else {
      cli::print_status(st, stdout);
    }
  };
  static constexpr const char* kVerbs[] = {"ls", "status", "pause", "cancel", "resume", "status"};
  const char* wire_verb = kVerbs[static_cast<int>(verb)];
  // No id: a listing (ls, or what --all picks from).
  auto ask = [&](std::optional<TransferId> id) {
    nlohmann::json request{{"v", 1}, {"verb", id ? wire_verb : "ls"}};
    if (verb == LookVerb::Ls && state) request["state"] = o.state;
    if (id) request["id"] = *id;
    return cli::ask_control(dir, request.dump());
  };
  // Every answer is shown; the first failure decides the exit code, the rest still run.
  std::optional<std::pair<int, std::string>> first_failure;
  std::size_t failures = 0;
  auto failed = [&](int code, const std::string& why) {
    ++failures;
    if (!first_failure) first_failure = {code, why};
    else std::fprintf(stderr, "xfer: %s\n", why.c_str());
  };
  auto finish = [&]() -> int {
    if (!first_failure) return cli::kExitOk;
    return fail_line(first_failure->first, failures > 1 ? fmt::format("{} ({} more failed)", first_failure->second,
                                                                       failures - 1)
                                                        : first_failure->second);
  };

  if (auto probe = ask(verb == LookVerb::Ls || o.all ? std::nullopt : std::optional<TransferId>(o.ids.front()))) {
    running = true;
    if (verb == LookVerb::Why)
      if (auto l = cli::ask_control(dir, R"({"v":1,"verb":"limit"})"); l && l->ok && !l->lines.empty())
        limits = cli::describe_limits(l->lines.front());
    std::vector<TransferStatus> listed;
    for (const auto& line : probe->lines)
      if (auto st = cli::status_from_json_line(line)) listed.push_back(*st);
    if (verb == LookVerb::Ls) {
      for (const auto& st : listed) show(st);
      if (!probe->ok) return fail_line(probe->exit_code, probe->error);
      return cli::kExitOk;
    }
    auto ids = ids_to_act_on(o, verb, listed);
    std::size_t from = 0;
    if (!o.all) {  // the probe was the first id's own request
      for (const auto& st : listed) show(st);
      if (!probe->ok) failed(probe->exit_code, probe->error);
      from = 1;
    }
    for (std::size_t i = from; i < ids.size(); ++i) {
      auto answer = ask(ids[i]);
      if (!answer) {
        failed(cli::kExitJournal, "the xfer running on the journal stopped answering");
        break;
      }
      for (const auto& line : answer->lines)
        if (auto st = cli::status_from_json_line(line)) show(*st);
      if (!answer->ok) failed(answer->exit_code, answer->error);
    }
    return finish();
  }
  if (verb == LookVerb::Resume) return run_resume(o.common, ResumeOnly{o.ids, o.all});
  auto engine = open_engine_idle(o.common);
  if (!engine) return fail_line(cli::exit_code_for(engine.error().category()), engine.error().describe());
  std::vector<TransferStatus> listed;
  if (verb == LookVerb::Ls || o.all) {
    auto all = cli::journal_transfers(**engine, verb == LookVerb::Ls ? state : std::nullopt);
    if (!all) {
      (void)(*engine)->shutdown();
      return fail_line(exit_code_for_lookup(all.error()), all.error().describe());
    }
    listed = std::move(*all);
  }
  if (verb == LookVerb::Ls) {
    for (const auto& st : listed) show(st);
  } else {
    for (const auto id : ids_to_act_on(o, verb, listed)) {
      Result<void> done;
      if (verb == LookVerb::Pause) done = (*engine)->pause(id);
      else if (verb == LookVerb::Cancel) done = (*engine)->cancel(id);
      auto st = done ? (*engine)->status(id) : Result<TransferStatus>(std::unexpected(done.error()));
      if (st) show(*st);
      else failed(exit_code_for_lookup(st.error()), st.error().describe());
    }
  }
  (void)(*engine)->shutdown();
  return finish();
}

struct DaemonOptions {
  CommonOptions common;
  std::string limit_rate;
  std::string per_transfer_limit;
  std::uint32_t concurrency = 0;
  std::uint32_t per_host = 0;
  ProtocolFlags protocol;
};

int run_daemon(const DaemonOptions& o) {
  using namespace xfer;
  EngineConfig config;
  // Its completed events are what clients read later (`xfer events`); a digest cannot be
  // computed for them afterwards.
  config.report_digests = true;
  if (o.concurrency) config.max_active = o.concurrency;
  if (o.per_host) {
    config.max_active_per_origin = o.per_host;
    config.max_streams_per_origin = o.per_host;
  }
  cli::DaemonSettings settings;
  auto whole = parse_limit_rate(o.limit_rate);
  if (!whole) return fail_line(cli::kExitUsage, whole.error().message());
  auto each = parse_limit_rate(o.per_transfer_limit, "--per-transfer-limit");
  if (!each) return fail_line(cli::kExitUsage, each.error().message());
  config.rate_limit_global = whole->now().rate;
  config.rate_limit_per_transfer = each->now().rate;
  std::vector<std::pair<std::string, std::string>> headers;
  if (auto r = apply_common(o.common, config, headers); !r)
    return fail_line(cli::kExitUsage, r.error().message());
  auto engine = open_engine(o.common, config);
  if (!engine) return fail_line(cli::exit_code_for(engine.error().category()), engine.error().describe());
  settings.journal_dir = journal_dir(o.common);
  settings.whole_run = std::move(*whole);
  settings.per_transfer = std::move(*each);
  settings.defaults.headers = headers;
  settings.defaults.protocol = o.protocol.chosen();
  settings.stop = interrupted;
  return cli::run_daemon(**engine, settings);
}

struct AddOptions {
  CommonOptions common;
  std::vector<std::string> args;  // URL... (downloads) or FILE... URL (--upload)
  bool upload = false;
  std::string output;
  std::string dir;
  std::string checksum;
  std::int32_t priority = 0;
  ProtocolFlags protocol;
};

// `xfer add`: the entries as manifest objects (paths absolute: the daemon's working directory
// is not the user's), sent to the daemon in requests of at most ~256 KiB; with nothing running
// on the journal, queued into it directly for the next `xfer daemon` or `xfer resume`.
int run_add(const AddOptions& o) {
  using namespace xfer;
  using json = nlohmann::json;
  std::vector<json> entries;
  auto absolute = [](const std::string& p) { return std::filesystem::absolute(p).lexically_normal().string(); };
  if (o.upload) {
    if (o.args.size() < 2) return fail_line(cli::kExitUsage, "add --upload needs FILE... URL");
    if (!o.output.empty() || !o.dir.empty()) return fail_line(cli::kExitUsage, "-o and -d are for downloads");
    const std::string url = o.args.back();
    for (std::size_t i = 0; i + 1 < o.args.size(); ++i) {
      const std::string name = std::filesystem::path(o.args[i]).filename().string();
      // One file: URL is its creation target; several: a collection, as `xfer put` does.
      const std::string target = o.args.size() == 2 ? url : url + "/" + cli::percent_encode_segment(name);
      entries.push_back({{"direction", "upload"}, {"url", target}, {"file", absolute(o.args[i])}});
    }
  } else {
    if (!o.output.empty() && o.args.size() != 1)
      return fail_line(cli::kExitUsage, "-o needs exactly one URL (use -d DIR for several)");
    for (const auto& url : o.args) {
      // A trailing '/' names the file after its URL (the manifest's rule).
      const std::string file = !o.output.empty() ? absolute(o.output) : absolute(o.dir.empty() ? "." : o.dir) + "/";
      entries.push_back({{"direction", "download"}, {"url", url}, {"file", file}});
    }
  }
  if (!o.checksum.empty()) {
    if (entries.size() != 1) return fail_line(cli::kExitUsage, "--checksum needs exactly one transfer");
    entries.front()["checksum"] = o.checksum;
  }
  for (auto& e : entries) {
    if (o.priority != 0) e["priority"] = o.priority;
    if (!o.common.headers.empty()) e["headers"] = o.common.headers;
    if (auto why = o.protocol.refuses(e["url"].get<std::string>())) return fail_line(cli::kExitUsage, *why);
  }
  const std::string dir = journal_dir(o.common);
  auto show = [](const cli::ControlAnswer& answer) {
    for (const auto& line : answer.lines) {
      const auto j = json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;
      if (j.contains("id"))
        std::printf("%llu\t%s\n", static_cast<unsigned long long>(j.value("id", 0ull)), j.value("file", "").c_str());
      else
        std::fprintf(stderr, "xfer: entry %zu: %s\n", j.value("entry", std::size_t{0}), j.value("error", "").c_str());
    }
  };
  // The entries' own numbers are per request; renumbered for the user.
  constexpr std::size_t kRequestBytes = 256 * 1024;
  std::size_t next = 0, refused = 0;
  bool direct = false;
  std::unique_ptr<Engine> local;
  while (next < entries.size()) {
    json request{{"v", 1}, {"verb", "add"}, {"protocol", cli::protocol_flag_name(o.protocol.chosen())}};
    json batch = json::array();
    std::size_t bytes = 0;
    for (; next < entries.size() && (batch.empty() || bytes < kRequestBytes); ++next) {
      bytes += entries[next].dump().size();
      batch.push_back(entries[next]);
    }
    request["entries"] = batch;
    cli::ControlAnswer answer;
    if (!direct) {
      if (auto remote = cli::ask_control(dir, request.dump())) {
        answer = std::move(*remote);
        if (!answer.ok && answer.lines.empty() && answer.error.find("does not serve") != std::string::npos)
          return fail_line(cli::kExitUsage, "the xfer running on this journal (get, put, batch or resume) takes no "
                                            "new transfers: `xfer add` queues into an `xfer daemon`");
      } else {
        direct = true;
      }
    }
    if (direct) {
      if (!local) {
        auto opened = open_engine_idle(o.common);  // queue only: the next daemon or resume runs them
        if (!opened) return fail_line(cli::exit_code_for(opened.error().category()), opened.error().describe());
        local = std::move(*opened);
        std::fprintf(stderr, "xfer: nothing runs on %s: queued into the journal for the next `xfer daemon` or "
                             "`xfer resume`\n", dir.c_str());
      }
      cli::BatchDefaults defaults;
      defaults.protocol = o.protocol.chosen();
      std::string lines;
      for (const auto& e : batch) lines += e.dump() + "\n";
      answer = cli::add_entries(*local, lines, defaults);
    }
    show(answer);
    if (!answer.ok) {
      if (answer.lines.empty()) return fail_line(answer.exit_code, answer.error);
      for (const auto& line : answer.lines)
        if (line.find("\"error\"") != std::string::npos) ++refused;
    }
  }
  if (local) (void)local->shutdown();
  if (refused > 0)
    return fail_line(refused == entries.size() ? cli::kExitUsage : cli::kExitSomeFailed,
                     fmt::format("{} of {} transfers were refused", refused, entries.size()));
  return cli::kExitOk;
}

struct EventsOptions {
  CommonOptions common;
  std::vector<std::uint64_t> ack;
  bool json = false;
};

// `xfer events [--ack SEQ...]`: the terminal events nobody acknowledged, from the daemon that
// holds them, or from the journal itself when nothing runs on it.
int run_events(const EventsOptions& o) {
  using namespace xfer;
  const std::string dir = journal_dir(o.common);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return fail_line(cli::kExitJournal, fmt::format("no journal at {}", dir));
  auto show = [&](const Event& e) {
    if (o.json) std::printf("%s\n", cli::event_json_line(e).c_str());
    else cli::print_event_line(e, stdout);
  };
  nlohmann::json request{{"v", 1}};
  if (o.ack.empty()) request["verb"] = "events";
  else request.update({{"verb", "ack"}, {"seqs", o.ack}});
  if (auto remote = cli::ask_control(dir, request.dump())) {
    if (!remote->ok && remote->error.find("does not serve") != std::string::npos)
      return fail_line(cli::kExitUsage, "the xfer running on this journal (get, put, batch or resume) acknowledges "
                                        "its own events; `xfer events` is for an `xfer daemon` or a journal nothing runs on");
    for (const auto& line : remote->lines)
      if (auto e = cli::event_from_json_line(line)) show(*e);
    if (!remote->ok) return fail_line(remote->exit_code, remote->error);
    return cli::kExitOk;
  }
  auto engine = open_engine_idle(o.common);
  if (!engine) return fail_line(cli::exit_code_for(engine.error().category()), engine.error().describe());
  cli::TerminalInbox inbox;
  inbox.drain(**engine);
  Result<void> done;
  if (o.ack.empty()) {
    for (const auto& e : inbox.pending()) show(e);
  } else {
    done = inbox.ack(**engine, o.ack);
  }
  auto shut = (*engine)->shutdown();
  if (!done)
    return fail_line(exit_code_for_lookup(done.error()), done.error().message());
  if (!shut) return fail_line(cli::exit_code_for(shut.error().category()), shut.error().describe());
  return cli::kExitOk;
}

struct LimitOptions {
  CommonOptions common;
  std::string rate;
  bool per_transfer = false;
};

// `xfer limit [RATE|SCHEDULE] [--per-transfer]`: shows or replaces a running xfer's limits.
int run_limit(const LimitOptions& o) {
  using namespace xfer;
  if (!o.rate.empty())
    if (auto s = cli::RateSchedule::parse(o.rate); !s) return fail_line(cli::kExitUsage, s.error().message());
  nlohmann::json request{{"v", 1}, {"verb", "limit"}};
  if (!o.rate.empty()) request.update({{"rate", o.rate}, {"per_transfer", o.per_transfer}});
  const std::string dir = journal_dir(o.common);
  auto remote = cli::ask_control(dir, request.dump());
  if (!remote)
    return fail_line(cli::kExitUsage, fmt::format("nothing runs on {}: a limit is for a running xfer (start one with "
                                                  "--limit-rate)", dir));
  if (!remote->ok) return fail_line(remote->exit_code, remote->error);
  for (const auto& line : remote->lines) std::printf("%s\n", cli::describe_limits(line).c_str());
  return cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(std::getenv("XFER_DEBUG") ? spdlog::level::debug : spdlog::level::warn);
  spdlog::set_default_logger(spdlog::stderr_logger_st("xfer"));
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"xfer: resumable downloads and uploads over HTTP/1.1, HTTP/2 and HTTP/3"};
  app.require_subcommand(1);
  // --config / --no-config are the app's own; given after the verb they fall through to it.
  app.fallthrough();
  std::string config_path;
  bool no_config = false;
  auto* config_opt = app.add_option("--config", config_path,
                                    "defaults from this TOML file (default $XDG_CONFIG_HOME/xfer/config.toml)");
  app.add_flag("--no-config", no_config, "read no config file")->excludes(config_opt);

  GetOptions get;
  auto* get_cmd = app.add_subcommand("get", "download URLs (resumable; see `xfer resume`)");
  get_cmd->add_option("urls", get.urls, "URLs to download")->required();
  auto* out = get_cmd->add_option("-o,--output", get.output, "write to FILE (one URL only)");
  auto* dir = get_cmd->add_option("-d,--dir", get.dir, "write into DIR, named after the URL")
                  ->excludes(out);
  get_cmd->add_option("--segments", get.segments, "parallel ranges per large file")
      ->check(CLI::Range(1, 16));
  get_cmd->add_option("--limit-rate", get.limit_rate, "bytes per second per transfer (K, M, G)");
  get_cmd->add_option("--checkpoint-every", get.checkpoint_every,
                      "fdatasync and journal the offset every SIZE bytes (K, M, G; default 16M)");
  add_protocol_flags(*get_cmd, get.protocol);
  get_cmd->add_option("--checksum", get.checksum, "expected digest ALG:HEX (sha256, sha512)");
  add_common(*get_cmd, get.common);

  PutOptions put;
  auto* put_cmd = app.add_subcommand(
      "put", "upload FILEs (resumable: IETF Resumable Uploads for HTTP or tus 1.0; see `xfer resume`)");
  put_cmd->add_option("args", put.args,
                      "FILE... URL (one file: URL is the creation target; several: a collection, "
                      "each file goes to URL/NAME)")
      ->required()
      ->expected(2, -1);
  put_cmd->add_option("--protocol", put.protocol,
                      "ietf (default: IETF Resumable Uploads), tus (tus 1.0: URL is the creation "
                      "endpoint), put (plain PUT/POST, sent again from zero after an interruption)");
  put_cmd->add_option("--method", put.method, "--protocol put: PUT (default) or POST")
      ->check(CLI::IsMember({"PUT", "POST"}));
  put_cmd->add_flag("--allow-replay", put.allow_replay,
                    "--protocol put with POST: send it again from zero after an interruption");
  put_cmd->add_option("--interop-version", put.interop_version,
                      "IETF draft interop version, 3 to 10 (default 10)")
      ->check(CLI::Range(3, 10));
  put_cmd->add_option("--creation", put.creation,
                      "auto (default), optimistic (body with the creation) or careful (empty "
                      "creation first)");
  put_cmd->add_option("--chunk-size", put.chunk_size, "largest append (K, M, G; default: all)");
  put_cmd->add_option("--limit-rate", put.limit_rate, "bytes per second per transfer (K, M, G)");
  put_cmd->add_option("--checksum", put.checksum,
                      "digest ALG:HEX of the file (sha256, sha512), sent as Repr-Digest");
  add_protocol_flags(*put_cmd, put.http);
  put_cmd->add_flag("--restart-if-changed", put.restart_if_changed,
                    "a source changed since its upload began starts over instead of failing");
  add_common(*put_cmd, put.common);

  CommonOptions resume;
  LookOptions resume_ids;
  auto* resume_cmd = app.add_subcommand(
      "resume", "continue every unfinished transfer in the journal; with IDs (or --all paused), continue those "
                "paused transfers of the xfer running on it");
  add_common(*resume_cmd, resume);
  resume_cmd->add_option("id", resume_ids.ids, "paused transfers of the running xfer to continue");
  resume_cmd->add_flag("--all-paused", resume_ids.all, "every paused transfer of the running xfer");
  resume_cmd->add_flag("--json", resume_ids.json, "with IDs: each transfer as one JSON object");

  BatchOptions batch;
  auto* batch_cmd = app.add_subcommand(
      "batch", "transfer every entry of a manifest (JSON Lines or CSV; `-` reads stdin), resumably");
  batch_cmd->add_option("manifest", batch.manifest, "MANIFEST file, or - for stdin")->required();
  batch_cmd->add_option("--concurrency", batch.concurrency, "transfers at once (default 32)")
      ->check(CLI::Range(1, 1024));
  batch_cmd->add_option("--per-host", batch.per_host,
                        "transfers at once per origin (default 6, 64 once it multiplexes)")
      ->check(CLI::Range(1, 1024));
  batch_cmd->add_option("--window", batch.window,
                        "entries enqueued per journal batch; at most twice this many unfinished at once (default 512)")
      ->check(CLI::Range(1, 100000));
  batch_cmd->add_option("--limit-rate", batch.limit_rate, "bytes per second for the whole batch (K, M, G)");
  batch_cmd->add_option("--max-transfer", batch.max_transfer,
                        "stop admitting once SIZE bytes moved (K, M, G); checkpoint, exit 130");
  batch_cmd->add_option("--max-duration", batch.max_duration,
                        "stop admitting after TIME (90s, 5m, 2h); checkpoint, exit 130");
  batch_cmd->add_flag("--json", batch.json, "one JSON object per line on stdout for every event");
  batch_cmd->add_flag("--dry-run", batch.dry_run, "check the manifest, transfer nothing");
  add_protocol_flags(*batch_cmd, batch.protocol);
  add_common(*batch_cmd, batch.common);

  PartsOptions parts;
  auto* parts_cmd = app.add_subcommand(
      "parts", "list .part files no transfer in the journal owns (orphans), or remove them");
  parts_cmd->add_option("dirs", parts.dirs, "more directories to look in");
  parts_cmd->add_flag("--remove", parts.remove, "delete the orphaned .part files");
  parts_cmd->add_option("--journal", parts.common.journal,
                        "journal directory (default $XDG_STATE_HOME/xfer)");

  LookOptions ls;
  auto* ls_cmd = app.add_subcommand("ls", "list the journal's transfers (asking the xfer that runs on it, if one does)");
  ls_cmd->add_option("--state", ls.state, "only those in STATE (queued, active, paused, waiting, completed, failed, cancelled)");
  ls_cmd->add_flag("--json", ls.json, "one JSON object per transfer");
  ls_cmd->add_option("--journal", ls.common.journal, "journal directory (default $XDG_STATE_HOME/xfer)");

  // Transfers by id: status, pause, cancel, why.
  auto add_id_verb = [&app](const char* name, const char* what, LookOptions& o, bool json = true) {
    auto* cmd = app.add_subcommand(name, what);
    cmd->add_option("id", o.ids, "transfer IDs (as `xfer ls` shows them)");
    if (json) cmd->add_flag("--json", o.json, "each transfer as one JSON object");
    cmd->add_option("--journal", o.common.journal, "journal directory (default $XDG_STATE_HOME/xfer)");
    return cmd;
  };
  LookOptions status, pause, cancel, why;
  auto* status_cmd = add_id_verb("status", "transfers: state, bytes, attempts, why they wait or failed", status);
  auto* pause_cmd = add_id_verb("pause", "pause transfers (checkpointed; `xfer resume` continues them)", pause);
  pause_cmd->add_flag("--all", pause.all, "every unfinished transfer");
  auto* cancel_cmd = add_id_verb("cancel", "cancel transfers (their .part files are deleted)", cancel);
  cancel_cmd->add_flag("--all", cancel.all, "every unfinished transfer");
  auto* why_cmd = add_id_verb("why", "why a transfer has not finished: what it waits for, the server's last "
                                     "answer, the next attempt, the limits", why, false);

  DaemonOptions daemon;
  auto* daemon_cmd = app.add_subcommand(
      "daemon", "run the engine as a service on the journal: resumes everything, serves `xfer add`, `events`, "
                "`limit` and the other verbs until SIGTERM");
  daemon_cmd->add_option("--limit-rate", daemon.limit_rate,
                         "bytes per second for everything it runs (K, M, G), or a schedule \"08:00,1M 18:00,off\"");
  daemon_cmd->add_option("--per-transfer-limit", daemon.per_transfer_limit,
                         "bytes per second for each transfer, or a schedule");
  daemon_cmd->add_option("--concurrency", daemon.concurrency, "transfers at once (default 32)")
      ->check(CLI::Range(1, 1024));
  daemon_cmd->add_option("--per-host", daemon.per_host, "transfers at once per origin")->check(CLI::Range(1, 1024));
  add_protocol_flags(*daemon_cmd, daemon.protocol);
  add_common(*daemon_cmd, daemon.common);

  AddOptions add;
  auto* add_cmd = app.add_subcommand(
      "add", "queue downloads (URL...) or uploads (--upload FILE... URL) into the `xfer daemon` on the journal");
  add_cmd->add_option("args", add.args, "URL... or, with --upload, FILE... URL")->required();
  add_cmd->add_flag("--upload", add.upload, "upload FILE... to URL (one file: URL is the creation target)");
  auto* add_out = add_cmd->add_option("-o,--output", add.output, "download to FILE (one URL only)");
  add_cmd->add_option("-d,--dir", add.dir, "download into DIR, named after the URL")->excludes(add_out);
  add_cmd->add_option("--checksum", add.checksum, "expected digest ALG:HEX (one transfer only)");
  add_cmd->add_option("--priority", add.priority, "higher runs first (default 0)");
  add_cmd->add_option("-H,--header", add.common.headers, "request header 'Name: value'");
  add_protocol_flags(*add_cmd, add.protocol);
  add_cmd->add_option("--journal", add.common.journal, "journal directory (default $XDG_STATE_HOME/xfer)");

  EventsOptions events;
  auto* events_cmd = app.add_subcommand(
      "events", "the completed, failed and cancelled transfers nobody acknowledged yet; --ack SEQ... acknowledges them");
  events_cmd->add_option("--ack", events.ack, "acknowledge these events (numbers as listed): never shown again");
  events_cmd->add_flag("--json", events.json, "one JSON object per event");
  events_cmd->add_option("--journal", events.common.journal, "journal directory (default $XDG_STATE_HOME/xfer)");

  LimitOptions limit;
  auto* limit_cmd = app.add_subcommand(
      "limit", "show or change the bandwidth limit of the xfer running on the journal: RATE, off, or a schedule");
  limit_cmd->add_option("rate", limit.rate, "1M, off, or \"08:00,1M 18:00,off\" (Mon-08:00,... for weekly)");
  limit_cmd->add_flag("--per-transfer", limit.per_transfer, "the limit of each transfer instead of the whole run's");
  limit_cmd->add_option("--journal", limit.common.journal, "journal directory (default $XDG_STATE_HOME/xfer)");

  std::string help_verb;
  auto* help_cmd = app.add_subcommand("help", "what a verb does and every flag it takes: xfer help VERB");
  help_cmd->add_option("verb", help_verb, "a verb (get, put, batch, ...)");
  // For the shell completion (scripts/xfer-completion.bash): the verbs, or one verb's flags.
  std::string complete_verb;
  auto* complete_cmd = app.add_subcommand("__complete", "");
  complete_cmd->group("");  // hidden
  complete_cmd->add_option("verb", complete_verb);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : xfer::cli::kExitUsage;
  }
  if (!help_cmd->parsed() && !complete_cmd->parsed() && !no_config) {
    if (auto file = xfer::cli::config_file_path(config_path))
      for (CLI::App* verb : app.get_subcommands())
        if (auto applied = xfer::cli::apply_config_file(*file, app, *verb); !applied)
          return fail_line(xfer::cli::kExitUsage, applied.error().message());
  }
  if (help_cmd->parsed()) {
    if (help_verb.empty()) {
      // (App::help() would describe the selected subcommand, `help` itself.)
      std::printf("%s", app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal).c_str());
      return 0;
    }
    for (const auto* sub : app.get_subcommands({}))
      if (sub->get_name() == help_verb && !sub->get_group().empty()) {
        std::printf("%s", sub->help().c_str());
        return 0;
      }
    return fail_line(xfer::cli::kExitUsage, fmt::format("no verb \"{}\" (xfer help lists them)", help_verb));
  }
  if (complete_cmd->parsed()) {
    for (const auto* sub : app.get_subcommands({})) {
      if (sub->get_group().empty()) continue;  // hidden
      if (complete_verb.empty()) {
        std::printf("%s\n", sub->get_name().c_str());
      } else if (sub->get_name() == complete_verb) {
        for (const auto* opt : sub->get_options()) {
          for (const auto& name : opt->get_lnames()) std::printf("--%s\n", name.c_str());
          for (const auto& name : opt->get_snames()) std::printf("-%s\n", name.c_str());
        }
        std::printf("--config\n--no-config\n");  // the app's own, taken after any verb
      }
    }
    return 0;
  }
  get.output_given = out->count() > 0;
  get.dir_given = dir->count() > 0;
  if (get_cmd->parsed()) return run_get(get);
  if (put_cmd->parsed()) return run_put(put);
  if (parts_cmd->parsed()) return run_parts(parts);
  if (batch_cmd->parsed()) return run_batch(batch);
  if (ls_cmd->parsed()) return run_look(ls, LookVerb::Ls);
  if (status_cmd->parsed()) return run_look(status, LookVerb::Status);
  if (pause_cmd->parsed()) return run_look(pause, LookVerb::Pause);
  if (cancel_cmd->parsed()) return run_look(cancel, LookVerb::Cancel);
  if (why_cmd->parsed()) return run_look(why, LookVerb::Why);
  if (daemon_cmd->parsed()) return run_daemon(daemon);
  if (add_cmd->parsed()) return run_add(add);
  if (events_cmd->parsed()) return run_events(events);
  if (limit_cmd->parsed()) return run_limit(limit);
  if (!resume_ids.ids.empty() || resume_ids.all) {
    resume_ids.common = resume;
    return run_look(resume_ids, LookVerb::Resume);
  }
  return run_resume(resume);
}
