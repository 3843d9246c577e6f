// Shared by the API component tests: the real API listener on 127.0.0.1 (ephemeral port) in
// front of the real engine, started on its own thread, on the fake kernel, fake packages and
// MemoryStore; and the one-program payload those tests send.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "api/http/server.h"
#include "api/routes.h"
#include "component/engine/fakes.h"
#include "engine/engine.h"
#include "kernel/fake/fake_kernel.h"
#include "support/memory_store.h"

namespace l3afd::testing {

inline constexpr const char* kApiHost = "testhost";

/// An add/update entry for `iface` with one enabled XDP program `name` (object counter.bpf.o).
inline model::L3afBpfPrograms counter_entry(const std::string& iface, const std::string& name) {
  model::BpfProgram p;
  p.name = name;
  p.seq_id = 1;
  p.artifact = "l3af_" + name + ".tar.gz";
  p.version = "1.0";
  p.admin_status = "enabled";
  p.prog_type = "xdp";
  p.object_file = "counter.bpf.o";
  p.entry_function_name = "counter";
  model::L3afBpfPrograms e;
  e.host_name = kApiHost;
  e.iface = iface;
  e.ipv4_address = "198.18.0.1";
  e.bpf_programs = model::BpfPrograms{};
  e.bpf_programs->xdp_ingress = std::vector<model::BpfProgram>{p};
  return e;
}

/// Fakes, engine and listener. Interfaces eth0 and eth1 exist; counter.bpf.o is defined.
class ApiHarness {
 protected:
  ApiHarness() : kernel_(inj_), packages_(inj_), store_(&inj_) {
    kernel_.add_interface("eth0", 2);
    kernel_.add_interface("eth1", 3);
    kernel_.define_object("counter.bpf.o", {"counter", {{"packets", 0, 2, 4, 8, 1, {}}}});
  }
  /// Starts the engine and the listener with `o` (its address is replaced by 127.0.0.1:0).
  /// Returns the server's error, empty on success.
  std::string start(api::http::ServerOptions o) {
    engine::EngineConfig cfg;
    cfg.planner.default_repo_url = "file:///repo";
    cfg.planner.layout = layout::BpffsLayout("/sys/fs/bpf");
    cfg.planner.host_name = kApiHost;
    cfg.root_names = {"xdp-root", "tc-root"};
    engine_ = std::make_unique<engine::Engine>(cfg, kernel_, packages_, store_);
    engine_->start();
    ready_ = true;
    deps_ = std::make_unique<api::ApiDeps>(api::ApiDeps{*engine_, kApiHost, ready_, &gate_});
    o.address = "127.0.0.1:0";
    auto router = api::make_api_router(*deps_);
    if (extend_) extend_(router);
    auto s = api::http::Server::start(std::move(o), std::move(router));
    if (!s) return s.error().to_string();
    server_ = std::move(*s);
    return "";
  }
  void stop() {
    if (server_) server_->stop();
    if (engine_) engine_->stop();
  }

  kernel::fake::Injector inj_;
  kernel::fake::FakeKernel kernel_;
  FakePackages packages_;
  store::MemoryStore store_;
  std::unique_ptr<engine::Engine> engine_;
  std::atomic<bool> ready_{false};
  api::WriteGate gate_;
  /// Called with the router before the server starts (routes of other files).
  std::function<void(api::http::Router&)> extend_;
  std::unique_ptr<api::ApiDeps> deps_;
  std::unique_ptr<api::http::Server> server_;
};

}  // namespace l3afd::testing
