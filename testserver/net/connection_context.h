// ConnectionContext: what every connection shares with its listener — where requests go, the
// limits it enforces, and the registry that lets SIGTERM reach it.
#pragma once

#include "testserver/exchange.h"
#include "testserver/net/connection.h"
#include "testserver/net/limits.h"

namespace xts::net {

struct ConnectionContext {
  ExchangeHandler handler;
  TransportLimits limits;
  ConnectionRegistry* registry = nullptr;
};

}  // namespace xts::net
