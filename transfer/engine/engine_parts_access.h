// The inside of the public EngineParts choices: what each one builds. Engine::open_with turns
// the choices into EngineDeps; the engine's own tests build choices (and deps) from internal
// parts, e.g. a scripted transport or a journal on a fault-injecting leveldb Env.
#pragma once

#include <functional>
#include <memory>

#include <xfer/engine_parts.h>

#include "store/journal.h"
#include "transfer/engine/engine_core.h"

namespace xfer::detail {

using JournalOpener =
    std::function<Result<std::unique_ptr<store::Journal>>(const store::JournalOptions&)>;

struct TransportMaker {
  engine::TransportFactory make;
};

struct JournalMaker {
  JournalOpener open;
};

struct PartsAccess {
  static TransportChoice transport(engine::TransportFactory make) {
    return TransportChoice(std::make_shared<const TransportMaker>(TransportMaker{std::move(make)}));
  }
  static JournalChoice journal(JournalOpener open) {
    return JournalChoice(std::make_shared<const JournalMaker>(JournalMaker{std::move(open)}));
  }
  static const engine::TransportFactory& factory(const TransportChoice& c) { return c.maker_->make; }
  static const JournalOpener& opener(const JournalChoice& c) { return c.maker_->open; }
};

}  // namespace xfer::detail
