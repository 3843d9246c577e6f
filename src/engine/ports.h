// Ports the engine uses besides the kernel (kernel/kernel.h): package fetching, the state
// store, the ownership journal and companion processes. Adapters: artifact/ (bridged in
// daemon/), store/, supervisor/. Tests use in-memory fakes.
// Thread-safety: StateStore is called only from the engine thread; PackageSource also from
// the threads that fetch ahead of a request (engine/prefetch.h), so adapters must allow
// concurrent calls.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/result.h"
#include "layout/bpffs_layout.h"
#include "model/l3af_types.h"

namespace l3afd::engine {

/// Where a package comes from (docs/compatibility.md §9.1).
struct PackageRef {
  std::string repo_url;  ///< ebpf_package_repo_url, or [ebpf-repo] url when that is empty
  std::string name;
  std::string version;
  std::string artifact;
  bool operator==(const PackageRef&) const = default;
};

struct Package {
  std::filesystem::path dir;  ///< the extracted package directory (FilePath)
  bool fresh = false;         ///< true when this call created the cache entry
};

class PackageSource {
 public:
  virtual ~PackageSource() = default;
  /// Downloads (or takes from the cache) and extracts. Errors: Unavailable, Io, InvalidPayload.
  virtual Result<Package> fetch(const PackageRef& ref) = 0;
  /// Removes the cache entry of name/version.
  virtual Status remove(const PackageRef& ref) = 0;
  /// True while the cache entry a fetch() returned is still there (a concurrent rollback of
  /// another request may remove a fresh entry that a fetch ahead saw as cached).
  virtual bool still_cached(const PackageRef& ref, const Package& p) {
    (void)ref;
    std::error_code ec;
    return std::filesystem::is_directory(p.dir, ec);
  }
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  /// Persists the whole state atomically (all or nothing on disk).
  virtual Status save(const std::vector<model::L3afBpfPrograms>& state) = 0;
  /// Reads the persisted state; an absent store is an empty vector.
  virtual Result<std::vector<model::L3afBpfPrograms>> load() = 0;
};

/// The bpffs footprint of one program instance (or root) on one interface: everything its
/// load and attach create lies at or under these paths (companion `*_tp` links live in the
/// directory of `paths.link_pin`).
struct OwnedInstance {
  std::string iface;
  layout::ProgramPaths paths;
  auto operator<=>(const OwnedInstance& o) const {
    return std::tie(iface, paths.map_dir, paths.prog_pin, paths.link_pin) <=>
           std::tie(o.iface, o.paths.map_dir, o.paths.prog_pin, o.paths.link_pin);
  }
  bool operator==(const OwnedInstance& o) const { return (*this <=> o) == 0; }
};

/// Port: where the record of owned instances is kept (adapter: store/ownership_journal.h; the
/// engine's use: engine/ownership.h).
/// Thread-safety: engine thread (and the daemon's start-up before the engine starts).
class OwnershipJournal {
 public:
  virtual ~OwnershipJournal() = default;
  /// Replaces the record with `owned`, atomically and durably (a crash leaves the old or the
  /// new record). Errors: Io.
  virtual Status record(const std::vector<OwnedInstance>& owned) = 0;
  /// The record; nullopt when none was ever written (a daemon that never recorded owns
  /// nothing it could prove). Errors: Io (unreadable), InvalidPayload (unparsable), with the
  /// file left untouched.
  virtual Result<std::optional<std::vector<OwnedInstance>>> load() = 0;
};

/// One companion program (a package binary named by `cmd_start`, docs/compatibility.md §11)
/// of one program: everything its command lines are made of.
struct CompanionRequest {
  /// Unique per program and stable across restarts: "<iface>/<direction>/<name>" for a
  /// hook's program, "probes/<name>" for a probe.
  std::string id;
  std::filesystem::path package_dir;  ///< FilePath: every cmd_* and rules_file lies inside
  std::string iface;                  ///< empty for probes (no --iface, --direction)
  std::string direction;              ///< xdpingress | ingress | egress
  std::string version_dir;            ///< V (dots as underscores); empty: no --version
  /// --map-name: the staging array of a self-loading program under chaining (§11.1 item 4,
  /// docs/chain-protocol.md §4.6); nullopt otherwise.
  std::optional<std::filesystem::path> map_name;
  model::BpfProgram program;  ///< cmd_*, *_args, rules, rules_file, memory, cpu, daemon flag
  bool operator==(const CompanionRequest&) const = default;
};

/// A started companion process. start_time is field 22 of /proc/<pid>/stat (clock ticks since
/// boot): with the pid it names one process for ever, so a recycled pid is never taken for it.
struct CompanionProcess {
  int pid = 0;
  std::uint64_t start_time = 0;
  bool adopted = false;  ///< true when start() found it running from a previous daemon run
  bool operator==(const CompanionProcess&) const = default;
};

/// A supervised companion ended on its own (not through stop()).
struct CompanionExit {
  std::string id;
  int pid = 0;
  bool signaled = false;
  /// Exit status, or the signal number when signaled. -1 (signaled false) when unknown: a
  /// process adopted from a previous daemon run is not the daemon's child, so init reaps it
  /// and only its end is seen.
  int code = 0;
  bool operator==(const CompanionExit&) const = default;
};

/// Port: companion processes (adapter: supervisor/). Only processes this port started (in this
/// run or, recorded by pid and start time, in a previous run of the daemon) are ever
/// signalled. Thread-safety: called from the engine thread; the exit handler is called on the
/// adapter's own thread and must only post to the engine (never touch engine state).
class Companions {
 public:
  virtual ~Companions() = default;

  /// Where exits of supervised companions go. Set once, before the first start().
  virtual void on_exit(std::function<void(CompanionExit)> handler) = 0;

  /// Checks, without side effects, that every command the program names (cmd_start, and
  /// cmd_stop / cmd_status / cmd_update when set) resolves inside package_dir to an executable
  /// regular file, that rules_file stays inside it, and that every *_args value is a string.
  /// Errors: InvalidPayload with one ErrorItem whose field names the member ("cmd_start",
  /// "rules_file", "start_args", ...).
  virtual Status check(const CompanionRequest& r) = 0;

  /// user_program_daemon: true. Writes `rules` to the rules file (when §11.1 item 6 applies),
  /// then starts cmd_start supervised; its exit is reported once through the handler. When a
  /// process recorded for r.id by a previous daemon run is still alive (same pid and start
  /// time), it is adopted instead (no second copy is started) and `adopted` is true.
  /// Errors: as check(), Conflict (r.id already running in this run), Io/Kernel (spawn).
  virtual Result<CompanionProcess> start(const CompanionRequest& r) = 0;

  /// user_program_daemon: false. Writes rules, runs cmd_start and waits up to `timeout`.
  /// Errors: as check(); Kernel when it exits non-zero or is killed by a signal (message with
  /// the status and the last lines of its output); Timeout (it is killed and reaped first).
  virtual Status run_once(const CompanionRequest& r, std::chrono::milliseconds timeout) = 0;

  /// Stops a companion start() started: cmd_stop when set (waited for with a timeout), then,
  /// if the process is still alive, SIGTERM and SIGKILL after the grace period. Returns without
  /// waiting for the grace period; the process is always reaped. No exit is reported for it.
  /// NotFound if r.id is not running.
  virtual Status stop(const CompanionRequest& r) = 0;

  /// cmd_update with update_args (§11.3), waited for with a timeout. No-op without cmd_update.
  /// Errors: as run_once().
  virtual Status update(const CompanionRequest& r) = 0;

  /// Health (§11.3, §15): cmd_status when set (trimmed output RUNNING in any case), else
  /// whether the supervised process is alive.
  virtual Result<bool> running(const CompanionRequest& r) = 0;

  /// Stops every recorded process of a previous run that no start() of this run adopted
  /// (after the restore, so a program deleted while the daemon was down leaves no orphan).
  /// Returns how many were stopped.
  virtual std::size_t stop_unclaimed() = 0;
};

}  // namespace l3afd::engine
