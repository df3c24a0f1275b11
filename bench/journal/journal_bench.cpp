// Journal benchmark (docs/benchmarks-journal.md): batched insert of N transfer records,
// reopen + scan of N unfinished transfers (the first open after writing them reads every new
// table through), a second reopen, a reopen without the table check, on-disk size, synced checkpoints per second with 1/16/256 writer threads with and without group
// commit, peak RSS. Prints one "name value unit" line per figure so bench/run-journal can
// take medians over runs.
//   journal_bench [--dir D] [--records N] [--batch B] [--seconds S] [--threads 1,16,256]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include "store/journal.h"

using namespace xfer;
using namespace xfer::store;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  std::string dir;
  std::size_t records = 100'000;
  std::size_t batch = 1000;
  double seconds = 2.0;
  std::vector<int> threads = {1, 16, 256};
};

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// CPU seconds of the whole process (leveldb's compaction thread included): on a shared
// machine wall-clock time also measures the neighbours, CPU time does not.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "journal_bench: %s\n", what.c_str());
  std::exit(1);
}

std::unique_ptr<Journal> open(const std::string& dir, bool group_commit, bool verify_on_open = true) {
  JournalOptions options;
  options.directory = dir;
  options.group_commit = group_commit;
  options.verify_on_open = verify_on_open;
  auto journal = Journal::open(options);
  if (!journal) die(journal.error().describe());
  return std::move(*journal);
}

TransferRecord make_record(TransferId id) {
  TransferRecord t;
  t.id = id;
  t.url = fmt::format("https://cdn.example.test/datasets/part-{:08}.bin", id);
  t.local_path = fmt::format("/srv/mirror/datasets/part-{:08}.bin", id);
  t.request_headers = {{"Authorization", "Bearer 0123456789abcdef"}};
  t.state = TransferState::Queued;
  t.size = 64ull << 20;
  t.priority = static_cast<std::int32_t>(id % 7) - 3;
  t.created_at = 1'700'000'000'000 + static_cast<std::int64_t>(id);
  t.updated_at = t.created_at;
  return t;
}

std::uint64_t disk_usage(const std::string& dir) {
  std::uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file()) total += entry.file_size();
  return total;
}

void report(const std::string& name, double value, const char* unit) {
  std::printf("%s %.6g %s\n", name.c_str(), value, unit);
  std::fflush(stdout);
}

double checkpoint_rate(const std::string& dir, int threads, bool group, double seconds) {
  auto journal = open(dir, group);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> done{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      SegmentRecord s;
      s.transfer_id = 1 + static_cast<TransferId>(t);
      s.end = 1ull << 40;
      std::uint64_t local = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        s.offset += 65536;
        if (!journal->checkpoint(s)) {
          failed = true;
          break;
        }
        ++local;
      }
      done += local;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double elapsed = since(start);
  if (failed) die("a checkpoint failed");
  return static_cast<double>(done.load()) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--dir") config.dir = value;
    else if (flag == "--records") config.records = std::stoull(value);
    else if (flag == "--batch") config.batch = std::stoull(value);
    else if (flag == "--seconds") config.seconds = std::stod(value);
    else if (flag == "--threads") {
      config.threads.clear();
      std::size_t pos = 0;
      while (pos < value.size()) {
        const std::size_t comma = value.find(',', pos);
        config.threads.push_back(std::stoi(value.substr(pos, comma - pos)));
        pos = comma == std::string::npos ? value.size() : comma + 1;
      }
    } else die("unknown flag " + flag);
  }
  const bool own_dir = config.dir.empty();
  if (own_dir) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "journal-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) die("mkdtemp failed");
    config.dir = tmpl;
  }
  const std::string records_dir = config.dir + "/records";
  const std::string checkpoints_dir = config.dir + "/checkpoints";

  {
    auto journal = open(records_dir, true);
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    for (std::size_t done = 0; done < config.records;) {
      Batch batch;
      for (std::size_t i = 0; i < config.batch && done < config.records; ++i, ++done) {
        auto id = journal->next_transfer_id();
        if (!id) die(id.error().describe());
        batch.put_transfer(make_record(*id));
      }
      if (auto r = journal->commit(std::move(batch), Durability::Synced); !r) die(r.error().describe());
    }
    report(fmt::format("insert_{}_records", config.records), since(start), "s");
    journal.reset();  // waits for leveldb's background compaction: its CPU belongs here
    report(fmt::format("insert_{}_records_cpu", config.records), cpu_seconds() - cpu_start, "s");
  }
  {
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    auto journal = open(records_dir, true);
    const double open_s = since(start);
    std::size_t seen = 0;
    auto r = journal->scan_unfinished([&](const TransferRecord&) {
      ++seen;
      return true;
    });
    if (!r) die(r.error().describe());
    if (seen != config.records) die(fmt::format("scan saw {} of {} records", seen, config.records));
    report("reopen", open_s, "s");
    report(fmt::format("reopen_and_scan_{}_unfinished", config.records), since(start), "s");
    report(fmt::format("reopen_and_scan_{}_unfinished_cpu", config.records), cpu_seconds() - cpu_start, "s");
  }
  // The reopen above read every table through once (JournalOptions::verify_on_open: they were
  // all new). A second open skips the tables it already read; a third skips the table check.
  for (bool verify : {true, false}) {
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    auto journal = open(records_dir, true, verify);
    const std::string name = verify ? "reopen_again" : "reopen_without_table_check";
    report(name, since(start), "s");
    report(name + "_cpu", cpu_seconds() - cpu_start, "s");
  }
  report("disk_size_records", static_cast<double>(disk_usage(records_dir)) / (1 << 20), "MiB");

  for (int threads : config.threads) {
    for (bool group : {true, false}) {
      const double rate = checkpoint_rate(checkpoints_dir, threads, group, config.seconds);
      report(fmt::format("synced_checkpoints_{}_threads_{}", threads, group ? "group" : "nogroup"), rate, "per_s");
    }
  }

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  report("peak_rss", static_cast<double>(usage.ru_maxrss) / 1024.0, "MiB");
  if (own_dir) std::filesystem::remove_all(config.dir);
  return 0;
}
