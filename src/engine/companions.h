// Supervision of the companions of the applied programs (docs/compatibility.md §11.2, §15),
// on the engine thread: which companion should run, which is down, when each is restarted
// (RestartPolicy: backoff, give-up, reset after a healthy period). Exits arrive as events
// (Companions::on_exit posts them to the engine's queue); nothing here runs on another thread.
// The table only decides; the engine performs the restarts through the Companions port.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/ports.h"
#include "engine/restart_policy.h"
#include "engine/state.h"

namespace l3afd::engine {

/// Id of the companion of program `p` on iface/hook: "<iface>/<direction>/<name>/<V>", stable
/// across restarts (the supervisor adopts a live process by it).
std::string companion_id(const std::string& iface, model::Hook h, const model::BpfProgram& p);

/// The companion request of program `p` on iface/hook (map_name unset).
CompanionRequest companion_request_of(const std::string& iface, model::Hook h,
                                      const model::BpfProgram& p,
                                      const std::filesystem::path& package_dir);

/// True when `p` has a supervised companion (user_program_daemon with cmd_start).
bool has_daemon_companion(const model::BpfProgram& p);

/// True when `p` loads its program itself (`object_file` empty, docs/compatibility.md §11.1).
bool is_self_loading(const model::BpfProgram& p);

/// The entry program name used in the pin path of a self-loading program (its C function is not
/// named in the payload): B/progs/<iface>/<name>/V/self_loaded_<xdp|tc>.
inline constexpr const char* kSelfLoadedEntry = "self_loaded";

/// The entry function name a program's pin paths use.
std::string pin_entry(const model::BpfProgram& p);

/// What readers (/bpfs, /metrics) see of one supervised companion.
struct CompanionStatus {
  bool running = true;
  std::int64_t restart_count = 0;   ///< consecutive restarts (RestartCount), reset when healthy
  bool given_up = false;            ///< max-ebpf-restart-count reached: no more restarts
  std::int64_t total_restarts = 0;  ///< every restart since the program was deployed
  bool operator==(const CompanionStatus&) const = default;
};

/// The supervised companions (user_program_daemon with cmd_start) of the applied state, by
/// companion id (plan_builder.h companion_id). Engine thread only.
class CompanionTable {
 public:
  using Clock = RestartPolicy::Clock;
  explicit CompanionTable(RestartLimits limits) : limits_(limits) {}

  /// After a state change: every supervised companion of `s` gets an entry (a new one counts as
  /// started at `now`; an entry whose request changed starts over), entries of programs that
  /// left are dropped. Returns the staging pins of dropped entries (self-loading restarts) for
  /// the caller to remove.
  std::vector<std::filesystem::path> sync(const AppliedState& s, Clock::time_point now);

  /// A companion exited on its own: marks it down and schedules its restart, or gives up.
  /// Returns false for an id the table does not know (a stopped companion).
  bool exited(const CompanionExit& e, Clock::time_point now);

  /// Ids whose restart is due at `now`.
  std::vector<std::string> due(Clock::time_point now) const;
  /// The earliest restart or healthy-reset deadline, if any.
  std::optional<Clock::time_point> next_deadline() const;
  /// Resets the restart counts of companions healthy since long enough. True if any changed.
  bool settle(Clock::time_point now);

  /// The request a restart of `id` uses (nullptr if unknown).
  const CompanionRequest* request(const std::string& id) const;
  /// Records the outcome of a restart attempt of `id` at `now`. A failed attempt counts as an
  /// exit (backoff again, or give up).
  void restarted(const std::string& id, bool ok, Clock::time_point now);
  /// The staging pin a self-loading companion was restarted with (removed at the next restart
  /// and when the program leaves).
  void set_staging(const std::string& id, std::filesystem::path pin);
  std::optional<std::filesystem::path> take_staging(const std::string& id);

  std::map<std::string, CompanionStatus> status() const;
  /// True when a supervised companion has a cmd_status (the engine then polls its health).
  bool has_status_commands() const;

 private:
  struct Entry {
    CompanionRequest request;
    RestartPolicy policy;
    bool running = true;
    std::optional<Clock::time_point> restart_at;
    std::optional<std::filesystem::path> staging;
  };
  RestartLimits limits_;
  std::map<std::string, Entry> entries_;
};

}  // namespace l3afd::engine
