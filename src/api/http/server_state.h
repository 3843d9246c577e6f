// State shared by the server and its connections (internal to the server).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "api/http/router.h"
#include "api/http/server.h"

namespace l3afd::api::http::detail {

/// What the server needs to know about a live connection.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  /// Closes the connection; callable from any thread, returns at once.
  virtual void close() = 0;
  /// Closes the connection if it waits for the next request of a keep-alive client (everything
  /// it received has been answered); a request being read or handled is finished first and
  /// answered with `Connection: close`. Callable from any thread, returns at once.
  virtual void close_if_idle() = 0;
};

/// Options, router and the registry of live connections. Kept alive by every connection
/// (shared_ptr), so a connection never outlives what it uses.
/// Thread-safety: options and router are read-only after start; the rest is locked.
class ServerState {
 public:
  ServerState(ServerOptions o, Router r) : options(std::move(o)), router(std::move(r)) {}

  const ServerOptions options;
  const Router router;

  /// Registers a new connection; false (and nothing registered) once stopping.
  bool add(const std::shared_ptr<SessionBase>& s);
  /// Marks the state as stopping and returns the connections still alive.
  std::vector<std::shared_ptr<SessionBase>> begin_stop();
  /// Marks the state as stopping (no new connection, answers close their connection) and
  /// returns the connections still alive, which stay registered for begin_stop().
  std::vector<std::shared_ptr<SessionBase>> begin_drain();
  /// True when no registered connection is alive.
  bool all_ended() const;
  bool is_stopping() const;

 private:
  /// Marks stopping and returns the live connections. Called with mu_ held.
  std::vector<std::shared_ptr<SessionBase>> stop_locked();

  mutable std::mutex mu_;
  bool stopping_ = false;
  std::vector<std::weak_ptr<SessionBase>> sessions_;
};

}  // namespace l3afd::api::http::detail
