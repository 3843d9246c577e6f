// The BPF side of the health check (docs/compatibility.md §15), on the engine thread: which
// deployed programs are watched (every non-root program the engine loaded, chained or not, and
// every probe entry), which of them the kernel lost, when each is redeployed (RestartPolicy:
// backoff, give-up after max-ebpf-restart-count, reset after a healthy period). The table only
// decides; the engine asks the kernel (Kernel::program_loaded) and redeploys through a plan
// (Engine::handle(const CheckHealth&)). Companion processes are CompanionTable's
// (engine/companions.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/companions.h"
#include "engine/restart_policy.h"
#include "engine/state.h"

namespace l3afd::engine {

/// Id of a watched program: its companion id (companions.h companion_id,
/// "<iface>/<direction>/<name>/<V>") for a program on a hook, "probes/<name>/<V>" for a probe
/// entry; that is, its object key without the "#<instance>" suffix.
std::string program_health_id(const std::string& object_key);

/// What readers (/bpfs, /metrics) see of the BPF side of one program.
struct ProgramHealth {
  bool loaded = true;               ///< the kernel still has it (or a redeploy replaced it)
  std::int64_t restart_count = 0;   ///< consecutive redeploys, reset when healthy
  bool given_up = false;            ///< max-ebpf-restart-count reached: not redeployed again
  std::int64_t total_restarts = 0;  ///< every redeploy since the program was deployed
  bool operator==(const ProgramHealth&) const = default;
};

/// The watched programs of the applied state, by program_health_id(). Engine thread only.
class ProgramHealthTable {
 public:
  using Clock = RestartPolicy::Clock;
  explicit ProgramHealthTable(RestartLimits limits) : limits_(limits) {}

  /// After a state change: every watched program of `s` gets an entry (a new one counts as
  /// started at `now`). An entry whose program now runs another instance (a redeploy, or any
  /// plan that rebuilt it) is loaded again, started at `now`, its pending redeploy dropped; one
  /// that was given up on starts over. An entry whose definition changed beyond the in-place
  /// fields starts over; entries of programs that left are dropped. Not watched: roots,
  /// self-loading programs (object_file empty: without chaining the daemon holds nothing of
  /// them; with chaining their binary's pins forbid a second instance of the same version,
  /// docs/chain-protocol.md §4.6).
  void sync(const AppliedState& s, Clock::time_point now);

  /// Object key by program id of every watched program believed loaded: what the check asks
  /// the kernel about.
  std::map<std::string, std::string> watched() const;

  /// The check found `id` not loaded: marks it down and schedules its redeploy after the
  /// policy's backoff, or gives up. False for an id the table does not know or already knows
  /// to be down.
  bool lost(const std::string& id, Clock::time_point now);

  /// Ids whose redeploy is due at `now`, and the object key of the lost instance of each.
  std::map<std::string, std::string> due(Clock::time_point now) const;
  /// The outcome of a redeploy of `id` at `now`. ok: the program runs again (sync() then sees
  /// the new instance). A failed redeploy counts as another loss (backoff again, or give up).
  void redeployed(const std::string& id, bool ok, Clock::time_point now);

  /// The earliest redeploy or healthy-reset deadline, if any.
  std::optional<Clock::time_point> next_deadline() const;
  /// Resets the restart counts of programs loaded since long enough. True if any changed.
  bool settle(Clock::time_point now);

  /// Interface drift: the interfaces that were deleted under the programs on them (the
  /// engine's check, Engine::check_interfaces). Their programs are reported not loaded
  /// (BPFRunning 0) without counting a restart; nothing is redeployed by the table for it.
  /// True if the set changed.
  bool set_gone_interfaces(std::set<std::string> gone);

  std::map<std::string, ProgramHealth> status() const;
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    model::BpfProgram spec;
    std::string object_key;
    std::string iface;  ///< "" for a probe entry
    RestartPolicy policy;
    bool loaded = true;
    std::optional<Clock::time_point> redeploy_at;
  };
  RestartLimits limits_;
  std::map<std::string, Entry> entries_;
  std::set<std::string> gone_ifaces_;
};

/// One program's health as /bpfs and /metrics report it (docs/compatibility.md §14, §15): both
/// sides of the check, by program id (companion id).
struct HealthView {
  bool running = true;             ///< l3afd_BPFRunning: BPF program loaded and companion up
  std::int64_t restart_count = 0;  ///< RestartCount: consecutive restarts of either side
};
HealthView health_view(const std::map<std::string, CompanionStatus>& companions,
                       const std::map<std::string, ProgramHealth>& programs, const std::string& id);

}  // namespace l3afd::engine
