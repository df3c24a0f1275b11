// Connection: what the server knows of every live HTTP connection, whatever its protocol, so
// SIGTERM can end them all; ConnectionRegistry holds them weakly (a connection lives as long
// as its own pending I/O keeps it alive, never because the registry does).
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

namespace xts::net {

class Connection {
 public:
  virtual ~Connection() = default;
  // The server is stopping: end the connection promptly (GOAWAY on h2).
  virtual void stop() = 0;
};

class ConnectionRegistry {
 public:
  std::uint64_t add(std::weak_ptr<Connection> connection) {
    const auto id = next_id_++;
    connections_.emplace(id, std::move(connection));
    return id;
  }
  void remove(std::uint64_t id) { connections_.erase(id); }
  std::size_t size() const { return connections_.size(); }
  // Stops every live connection; stop() may remove entries, so work on a copy.
  void stop_all() {
    auto copy = connections_;
    for (auto& [id, weak] : copy) {
      if (auto c = weak.lock()) c->stop();
    }
  }

 private:
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections_;
};

}  // namespace xts::net
