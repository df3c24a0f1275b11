// engine_example: embedding the xfer Engine in an application.
//
//   engine_example JOURNAL_DIR URL DESTINATION [--insecure]
//
// Opens the engine on a journal directory, enqueues one download, prints events as they come,
// acknowledges the terminal one and shuts down. Kill it (even with SIGKILL) and run it again
// with the same journal: the engine resumes the download where the last checkpoint left it, and
// a completion that was never acknowledged is delivered again. Running it again after an
// acknowledged completion enqueues a fresh download.
#include <cstdio>
#include <cstring>
#include <string>

#include <xfer/engine.h>
#include <xfer/version.h>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s JOURNAL_DIR URL DESTINATION [--insecure]\n", argv[0]);
    return 2;
  }
  std::printf("xfer %s\n", std::string(xfer::version()).c_str());
  xfer::EngineConfig config;
  config.transport.insecure = argc > 4 && std::strcmp(argv[4], "--insecure") == 0;
  // Engine::open(dir, config) would choose the same parts; naming them is how an application
  // picks its transport and journal.
  xfer::EngineParts parts{xfer::TransportChoice::libcurl_and_http3(), xfer::JournalChoice::leveldb()};
  auto engine = xfer::Engine::open_with(argv[1], config, parts);
  if (!engine) {
    std::fprintf(stderr, "open: %s\n", engine.error().describe().c_str());
    return 1;
  }
  // Anything unfinished from an earlier run is already resuming; only enqueue when idle.
  auto unfinished = (*engine)->unfinished_ids();
  if (unfinished.empty()) {
    xfer::DownloadSpec spec;
    spec.url = argv[2];
    spec.destination = argv[3];
    auto id = (*engine)->enqueue(spec);
    if (!id) {
      std::fprintf(stderr, "enqueue: %s\n", id.error().describe().c_str());
      return 1;
    }
    std::printf("enqueued transfer %llu\n", static_cast<unsigned long long>(*id));
  } else {
    std::printf("resuming %zu unfinished transfer(s)\n", unfinished.size());
  }
  int rc = 1;
  for (;;) {
    auto event = (*engine)->next_event(std::chrono::seconds(1));
    if (!event) continue;
    switch (event->kind) {
      case xfer::EventKind::Progress:
        std::printf("  %llu: %llu bytes\n", static_cast<unsigned long long>(event->id),
                    static_cast<unsigned long long>(event->bytes));
        continue;
      case xfer::EventKind::StateChanged:
      case xfer::EventKind::Restarted:
        std::printf("  %llu: %s %s\n", static_cast<unsigned long long>(event->id),
                    std::string(xfer::to_string(event->state)).c_str(), event->message.c_str());
        continue;
      default:
        break;
    }
    // A terminal event: act on it, then acknowledge so it is not delivered again.
    std::printf("%llu %s: %s -> %s\n", static_cast<unsigned long long>(event->id),
                std::string(xfer::to_string(event->state)).c_str(), event->message.c_str(),
                event->destination.c_str());
    if (auto acked = (*engine)->ack(*event); !acked)
      std::fprintf(stderr, "ack: %s\n", acked.error().describe().c_str());
    rc = event->kind == xfer::EventKind::Completed ? 0 : 1;
    if ((*engine)->unfinished_ids().empty()) break;
  }
  (void)(*engine)->shutdown();
  return rc;
}
