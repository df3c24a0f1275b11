// The public EngineParts choices and how they become the engine's dependencies. libcurl's
// choice is built in default_transport.cpp, the one file of transfer/ that names libcurl.
#include "transfer/engine/engine_parts_access.h"
#include "transfer/engine/engine_thread.h"

namespace xfer {

TransportChoice::TransportChoice(std::shared_ptr<const detail::TransportMaker> maker)
    : maker_(std::move(maker)) {}

JournalChoice::JournalChoice(std::shared_ptr<const detail::JournalMaker> maker)
    : maker_(std::move(maker)) {}

JournalChoice JournalChoice::leveldb() {
  return detail::PartsAccess::journal(
      [](const store::JournalOptions& options) { return store::Journal::open(options); });
}

namespace detail {

EngineDeps EngineDeps::from(const EngineParts& parts) {
  EngineDeps deps;
  deps.transport = PartsAccess::factory(parts.transport);
  deps.journal = PartsAccess::opener(parts.journal);
  return deps;
}

}  // namespace detail
}  // namespace xfer
