// The L3AF v1 REST routes (docs/compatibility.md §3) and the debug listener's /bpfs/<iface> (§14).
// Handlers are thin: decode (model::decode_*), submit to the engine, map the result through
// api/status. GET handlers read the engine's immutable snapshot and never block on writes.
#pragma once

#include <atomic>
#include <string>

#include "api/http/router.h"
#include "api/write_gate.h"
#include "engine/engine.h"

namespace l3afd::api {

struct ApiDeps {
  engine::Engine& engine;
  std::string host_name;
  /// False until the persisted state has been restored: every request then gets 503
  /// not_ready with Retry-After: 1 (D47).
  const std::atomic<bool>& ready;
  /// Closed during a graceful restart: writes then get 503 restart_in_progress with
  /// Retry-After: 1. Null: always open.
  WriteGate* gate = nullptr;
};

/// Routes of the API listener: POST add/update/delete, GET {iface}, GET all.
http::Router make_api_router(const ApiDeps& deps);

/// Routes of the debug listener: /bpfs/{iface} (any method).
http::Router make_debug_router(const ApiDeps& deps);

/// The debug listing of one interface: compact JSON array with a trailing newline.
std::string debug_listing(const engine::Snapshot& snap, const std::string& iface);

}  // namespace l3afd::api
