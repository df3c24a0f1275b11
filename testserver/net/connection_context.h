// ConnectionContext: what every connection shares with its listener — where requests go, the
// limits it enforces, the server-wide budget of buffered response bytes, and the registry that
// lets SIGTERM reach it.
#pragma once

#include <memory>
#include <string>

#include "testserver/exchange.h"
#include "testserver/net/connection.h"
#include "testserver/net/limits.h"
#include "testserver/net/response_budget.h"

namespace xts::net {

struct ConnectionContext {
  ExchangeHandler handler;
  TransportLimits limits;
  ConnectionRegistry* registry = nullptr;
  // Shared, so it outlives every connection that still holds a share of it.
  std::shared_ptr<ResponseBudget> server_budget;
  // The Alt-Svc field value HTTP/1.1 and HTTP/2 responses over TLS carry while HTTP/3 listens
  // (`h3=":<port>"; ma=86400`); empty: none. Cleartext responses never carry it: an h3
  // alternative only serves https origins.
  std::string alt_svc;
};

}  // namespace xts::net
