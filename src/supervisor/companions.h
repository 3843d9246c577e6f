// The Companions port on Linux (issue 9): companion programs of a package (cmd_start and
// friends, docs/compatibility.md §11) started with posix_runner (execve, never a shell),
// supervised by one ExitWatcher thread, limited by rlimits and — when cgroup v2 is usable — a
// cgroup per companion (memory.max, pids.max), their output kept in a size-capped log per
// program, and recorded (pid, start time, executable) so that the next daemon run adopts them
// instead of starting a second copy, or stops them when no program claims them.
//
// Thread-safety: the port's methods are called from the engine thread; the exit handler runs on
// the watcher thread. A mutex guards the table of processes and the record; it is never held
// while the handler runs or while a command (cmd_stop, cmd_status, cmd_update, one-shot) runs.
// Destroying the object leaves supervised companions running (recorded, for the next run to
// adopt) and finishes stops in progress with SIGKILL.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/ports.h"
#include "supervisor/capped_log.h"
#include "supervisor/cgroup.h"
#include "supervisor/command_line.h"
#include "supervisor/companion_record.h"
#include "supervisor/exit_watcher.h"

namespace l3afd::supervisor {

struct CompanionsOptions {
  /// Output of every companion command goes to `<log_dir>/<id, '/' as '_'>.log` (created
  /// 0750 when missing); empty: discarded.
  std::filesystem::path log_dir;
  std::uint64_t log_cap = kDefaultLogCap;  ///< then `<log>.1` replaces the older one
  /// Where started processes are recorded for the next run; empty: no record, no adoption.
  std::filesystem::path record_file;
  /// [l3afd] bpf-log-dir, passed as --log-dir (§11.1 item 5) when longer than 1 character.
  std::string bpf_log_dir;
  std::chrono::milliseconds stop_grace{std::chrono::seconds(10)};  ///< SIGTERM → SIGKILL
  /// cmd_stop, cmd_status and cmd_update (run_once has its own timeout).
  std::chrono::milliseconds command_timeout{std::chrono::seconds(60)};
  Cgroups::Options cgroup;
  /// pids.max of a companion's cgroup; nullopt: "max".
  std::optional<std::uint64_t> pids_max = 4096;
};

class PosixCompanions final : public engine::Companions {
 public:
  /// Reads the record of the previous run (an unreadable record is logged and taken as empty),
  /// probes cgroups and starts the watcher thread. Errors: Io (log directory), Kernel/Internal
  /// (watcher).
  static Result<std::unique_ptr<PosixCompanions>> create(CompanionsOptions options);
  ~PosixCompanions() override;

  void on_exit(std::function<void(engine::CompanionExit)> handler) override;
  Status check(const engine::CompanionRequest& r) override;
  Result<engine::CompanionProcess> start(const engine::CompanionRequest& r) override;
  Status run_once(const engine::CompanionRequest& r, std::chrono::milliseconds timeout) override;
  Status stop(const engine::CompanionRequest& r) override;
  Status update(const engine::CompanionRequest& r) override;
  Result<bool> running(const engine::CompanionRequest& r) override;
  std::size_t stop_unclaimed() override;

  /// Whether companions get a cgroup (false: rlimits only).
  bool uses_cgroups() const { return cgroups_.available(); }
  /// Waits until every stop in progress has ended (the process reaped, or SIGKILLed after its
  /// grace by the watcher), or until `deadline`. True when none is left. For the daemon's
  /// shutdown, so that a companion gets its whole grace period before the watcher goes.
  bool wait_stopped(std::chrono::steady_clock::time_point deadline);
  /// Graceful restart, old process: copies of the output pipes of the running companions, by
  /// pid (daemon/handover.h "companion-output:<pid>").
  std::vector<std::pair<pid_t, UniqueFd>> output_pipes() const;
  /// Graceful restart, new process, before the restore: the output pipes handed over, by pid.
  /// A companion of the previous run adopted later with one of these pids gets its pipe read
  /// into its log again (without it, its next write would find no reader). Unused ones are
  /// closed when the object goes.
  void inherit_output_pipes(std::vector<std::pair<pid_t, UniqueFd>> pipes);
  /// The per-program log of `id` (for operators and tests).
  std::filesystem::path log_path(const std::string& id) const;

 private:
  struct Proc {
    std::string id;
    pid_t pid = -1;
    std::uint64_t start_time = 0;
    std::filesystem::path executable;
    bool adopted = false;
    bool stopping = false;  ///< stop() or stop_unclaimed() began: its exit is not reported
  };

  PosixCompanions(CompanionsOptions options, std::vector<CompanionRecord> previous,
                  Cgroups cgroups);
  Invocation invocation(const engine::CompanionRequest& r) const;
  std::shared_ptr<CappedLog> log_for(const std::string& id);
  /// Runs a command to its end with the command timeout; non-zero exit → Kernel.
  Status run_checked(const CommandLine& cmd, const engine::CompanionRequest& r,
                     std::chrono::milliseconds timeout, const char* what);
  Status write_rules(const engine::CompanionRequest& r) const;
  void ended(const WatchedExit& e);  ///< the watcher's callback
  std::map<std::uint64_t, Proc>::iterator find_running_locked(const std::string& id);
  /// Adds a process to the watcher and the table. Called with mu_ held.
  Result<std::uint64_t> supervise_locked(Proc p, UniqueFd pidfd, UniqueFd output);
  void save_locked();

  const CompanionsOptions options_;
  const Cgroups cgroups_;
  std::mutex mu_;
  std::function<void(engine::CompanionExit)> handler_;
  std::map<std::uint64_t, Proc> procs_;          ///< by watcher token
  std::condition_variable stopped_cv_;           ///< a stopping process ended (wait_stopped)
  std::vector<CompanionRecord> previous_;        ///< recorded by the last run, not yet claimed
  std::map<pid_t, UniqueFd> inherited_outputs_;  ///< handed over, by pid; under mu_
  std::map<std::string, std::shared_ptr<CappedLog>> logs_;  ///< by id
  std::unique_ptr<ExitWatcher> watcher_;                    ///< last: destroyed (joined) first
};

}  // namespace l3afd::supervisor
