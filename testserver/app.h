// App: everything behind the transports — routing, files, resumable uploads, control and
// fault injection. The transports (h1, h2, h3) hand it each Exchange; main.cpp creates it
// once and the listeners share it.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "testserver/exchange.h"
#include "testserver/server_config.h"

namespace xts {

class App {
 public:
  // Opens the upload state under config.data (leveldb), recovers uploads interrupted by a
  // crash, and parses --fault. Fails with a one-line reason.
  static std::expected<std::unique_ptr<App>, std::string> create(const ServerConfig& config,
                                                                 boost::asio::io_context& io);
  virtual ~App() = default;

  // Serves one request. Runs on the exchange's executor.
  virtual void handle(std::shared_ptr<Exchange> exchange) = 0;
};

}  // namespace xts
