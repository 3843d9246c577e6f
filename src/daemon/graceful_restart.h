// PUT /l3af/configs/{version}/restart and SIGUSR2, the old process's side
// (docs/compatibility.md §16, docs/operations.md "Graceful restart"):
//   1. the version is checked (vX.Y.Z, each in [0, version-limit]);
//   2. read-only: the write gate is closed (new writes 503 restart_in_progress, the running ones
//      finish first) and the engine's supervision paused (no health action while the new process
//      adopts);
//   3. another version: `<restart-artifacts-url>/<ver>/l3afd.tar.gz` is fetched, verified and
//      unpacked into `<basepath>/<ver>/`, and `<basepath>/latest/{l3afd,l3afd.cfg}` re-pointed;
//   4. `<basepath>/latest/l3afd --config <basepath>/latest/l3afd.cfg` is started (setsid) and
//      handed the listening sockets, the locked PID file, the companions' output pipes and the
//      runtime state over a socketpair (daemon/handover.h); it adopts the kernel state like a
//      cold start (nothing reloaded), serves, writes the PID file and says "ready";
//   5. ready within time-to-restart: restart() returns ok, the daemon answers 200 and then
//      drains its listeners and exits 0 without touching programs, pins or companions;
//      otherwise the new process is killed, the PID file rewritten, the links and the unpacked
//      version rolled back, supervision resumed, writes allowed again: RestartFailed (500).
// Without the install layout (no `<basepath>/latest/l3afd`, e.g. `make run`), a restart to the
// running version starts this binary (/proc/self/exe) with this config again.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "api/restart_routes.h"
#include "api/write_gate.h"
#include "artifact/artifact.h"
#include "daemon/pid_file.h"
#include "engine/engine.h"

namespace l3afd::daemon {

struct GracefulRestartOptions {
  std::filesystem::path basepath;           ///< [graceful-restart] basepath
  std::string artifacts_url;                ///< restart-artifacts-url
  std::chrono::seconds time_to_restart{7};  ///< how long the new process may take to be ready
  std::int64_t version_limit = 100;         ///< each number of vX.Y.Z in [0, version-limit]
  std::filesystem::path config_path;        ///< this process's config (no install layout)
  std::string running_version;              ///< "v" + this build's version (no install layout)
  artifact::FetchOptions fetch;             ///< timeout and size limits of the daemon package
};

class GracefulRestart final : public api::RestartService {
 public:
  struct Hooks {
    /// The descriptors to hand over, by name (daemon/handover.h); they stay owned by the caller.
    std::function<std::vector<std::pair<std::string, int>>()> descriptors;
    /// The encoded runtime state (daemon/handover_state.h), taken after the gate closed.
    std::function<std::string()> state;
    /// Called once, after a successful handover, before restart() returns: the main thread is
    /// to drain the listeners and exit.
    std::function<void()> handed_over;
  };

  GracefulRestart(GracefulRestartOptions options, api::WriteGate& gate, engine::Engine& engine,
                  PidFile& pid_file, Hooks hooks);

  /// Thread-safe (one restart at a time: the write gate). Blocks up to the package download plus
  /// time-to-restart.
  Status restart(const api::RestartRequest& req, const std::string& request_id) override;

  /// SIGUSR2 (systemctl reload, docs/operations.md "Upgrading"): a restart to the version
  /// `<basepath>/latest` points to now (so nothing is downloaded), or to this build's version
  /// without the install layout. Same steps and rollback as restart(). Main thread.
  Status restart_latest();

  /// True once a successor has taken over (this process must exit).
  bool handed_over() const;

 private:
  /// Steps 3-5 with the gate closed and supervision paused; rolls back its own steps.
  Status hand_over(const std::string& version);

  GracefulRestartOptions options_;
  api::WriteGate& gate_;
  engine::Engine& engine_;
  PidFile& pid_file_;
  Hooks hooks_;
  mutable std::mutex mu_;
  bool handed_over_ = false;
};

}  // namespace l3afd::daemon
