// Internal to the planner (planner.cpp and the hook strategies): appends the steps that build,
// reconfigure, detach and release program instances to a Plan under construction. Pure: it
// only produces data.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "engine/companions.h"
#include "engine/planner.h"

namespace l3afd::engine {

class PlanBuilder {
 public:
  PlanBuilder(const PlannerConfig& cfg, Plan& plan, const PinnedLinks* adopt,
              std::set<std::string> rebuild = {})
      : cfg_(cfg), plan_(plan), adopt_(adopt), rebuild_(std::move(rebuild)) {}

  /// True when live instance `object_key` must be replaced although its definition is
  /// unchanged (PlanOptions::rebuild).
  bool must_rebuild(const std::string& object_key) const { return rebuild_.contains(object_key); }

  /// Programs (name, version) still used after the change: their packages are kept.
  std::set<std::pair<std::string, std::string>> used_after;
  /// Companion ids (companion_id()) of the applied state with the program that owns them, and
  /// of the desired state: a companion whose program keeps the same id and the same companion
  /// fields keeps running through a rebuild of its instance (docs/compatibility.md §11).
  std::map<std::string, ProgramRecord> before;
  std::map<std::string, model::BpfProgram> after;

  const PlannerConfig& cfg() const { return cfg_; }
  Plan& plan() { return plan_; }

  static ErrorItem subject(const std::string& iface, model::Hook h, const std::string& name) {
    return ErrorItem{
        .iface = iface, .direction = std::string(model::direction(h)), .program = name};
  }
  static std::string where(const std::string& iface, model::Hook h) {
    return " on " + iface + " " + std::string(model::direction(h));
  }

  kernel::AttachSpec attach_spec(const std::string& key, const std::string& iface, model::Hook h,
                                 const layout::ProgramPaths& paths) const;

  /// The link pinned at start for (iface, hook) by a previous run, else `own`: an attach takes
  /// it over atomically instead of failing on a busy hook (docs/chain-protocol.md §4.8).
  std::filesystem::path adoptable_link(const std::string& iface, model::Hook h,
                                       const std::filesystem::path& own) const;

  /// A new instance of a program, as appended by build().
  struct Built {
    ProgramRecord record;  ///< kernel fields filled later from `fill`
    Plan::Fill fill;       ///< fetch and load set; index, attach and root are the caller's
  };

  /// Appends fetch, load, carry, map-writing and seed steps for a new instance of `p` on
  /// iface/hook. `private_map` is the map that gets a fresh, unpinned copy (the chained
  /// program's next array); empty for none. `carry_from`: key of the instance of another
  /// version this one replaces; its state maps are copied into the new maps before map_args
  /// are written (docs/chain-protocol.md §4.2). Errors: InvalidPayload (unsafe path component).
  Result<Built> build(const std::string& iface, model::Hook h, const model::BpfProgram& p,
                      const std::string& private_map,
                      const std::optional<std::string>& carry_from = std::nullopt);

  /// Appends the in-place change of running instance `r` to `p` (only in-place fields differ):
  /// map writes (old map_args kept for rollback) and seed, when map_args or monitor_maps
  /// changed. Returns r with the new spec.
  ProgramRecord reconfigure(const std::string& iface, model::Hook h, const ProgramRecord& r,
                            const model::BpfProgram& p);

  /// Appends the detach of `r` from iface/hook (`what`: "" or "root ", for the label).
  void detach(const std::string& iface, model::Hook h, const ProgramRecord& r,
              const std::string& what = "");

  /// Appends the release steps of a program that leaves the data path: unload, and removal of
  /// its package unless still used (once per package).
  void release(const ProgramRecord& r);
  /// Release of a probe entry: unload (its links and pins), and its package unless still used.
  void release_probe(const ProbeRecord& r);
  /// Release of a root: unload only (its package stays cached for the next first program).
  void release_root(const ProgramRecord& r);

  /// The companion request of program `p` on iface/hook (package_dir from `package_dir`, or
  /// set by the step that fetched it).
  CompanionRequest companion_request(const std::string& iface, model::Hook h,
                                     const model::BpfProgram& p,
                                     const std::filesystem::path& package_dir = {}) const;

 private:
  /// Appends the companion steps of a new instance of `p` (after its package is fetched):
  /// a supervised companion still running for the same program with the same companion fields
  /// is kept; one with other fields is stopped first; then the new one is started (or, for a
  /// one-shot, run). `map_name`: the staging array of a self-loading program.
  void start_companion(const std::string& iface, model::Hook h, const model::BpfProgram& p,
                       StepRef<Package> package,
                       const std::optional<std::filesystem::path>& map_name);
  /// Appends the steps that let the binary of a self-loading program load it and take it over
  /// (docs/chain-protocol.md §4.6). Errors: Conflict (a live instance of the same name and
  /// version would share its pins).
  Result<StepRef<kernel::LoadedObject>> self_load(const std::string& iface, model::Hook h,
                                                  const model::BpfProgram& p,
                                                  const ProgramRecord& rec,
                                                  StepRef<Package> package);

  const PlannerConfig& cfg_;
  Plan& plan_;
  const PinnedLinks* adopt_;
  std::set<std::string> rebuild_;
  std::set<std::pair<std::string, std::string>> released_packages_;
  std::set<std::string> stopped_;  ///< companions this plan stops before restarting them
};

/// The kernel port key of instance number `n` of `p` on iface/hook:
/// `<iface>/<direction>/<name>/<V>#<n>` (unique per applied state via next_instance).
std::string instance_key(const std::string& iface, model::Hook h, const model::BpfProgram& p,
                         uint64_t n);

/// Package of a program: its own repository URL, else the configured default.
PackageRef package_of(const model::BpfProgram& p, const std::string& default_repo);

/// The root of a hook as a program definition (docs/compatibility.md §8.3).
model::BpfProgram root_program(const RootDef& d, model::Hook h);

/// Fields applied to a running instance without rebuilding it (docs/compatibility.md §6.3):
/// map_args, monitor_maps and cfg_version; with chaining also seq_id (the position is the chain's
/// job); update_args when the program has a cmd_update (which is then run with them).
bool differs_only_in_place(const model::BpfProgram& a, const model::BpfProgram& b, bool chaining);

}  // namespace l3afd::engine
