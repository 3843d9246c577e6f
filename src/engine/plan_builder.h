// Internal to the planner (planner.cpp, chain_steps.cpp): appends the steps that build, attach
// and release program instances to a Plan under construction. Pure: it only produces data.
#pragma once

#include <limits>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "engine/planner.h"

namespace l3afd::engine {

/// A Fill index that never names a step (complete() ignores it).
inline constexpr std::size_t kNoStep = std::numeric_limits<std::size_t>::max();

class PlanBuilder {
 public:
  PlanBuilder(const PlannerConfig& cfg, Plan& plan, const PinnedLinks* adopt)
      : cfg_(cfg), plan_(plan), adopt_(adopt) {}

  /// Programs (name, version) still used after the change: their packages are kept.
  std::set<std::pair<std::string, std::string>> used_after;

  const PlannerConfig& cfg() const { return cfg_; }
  Plan& plan() { return plan_; }

  static ErrorItem subject(const std::string& iface, model::Hook h, const std::string& name) {
    return ErrorItem{iface, std::string(model::direction(h)), name, "", ""};
  }
  static std::string where(const std::string& iface, model::Hook h) {
    return " on " + iface + " " + std::string(model::direction(h));
  }

  kernel::AttachSpec attach_spec(const std::string& key, const std::string& iface, model::Hook h,
                                 const layout::ProgramPaths& paths) const;

  /// The link pinned at start for (iface, hook) by a previous run, else `own`: an attach takes
  /// it over atomically instead of failing on a busy hook (chaining.md §4.8).
  std::filesystem::path adoptable_link(const std::string& iface, model::Hook h,
                                       const std::filesystem::path& own) const;

  /// Appends fetch, load and map-writing steps for a new instance of `p` on iface/hook and
  /// returns its record (kernel fields filled later from `fill`). `private_map` is the map that
  /// gets a fresh, unpinned copy (the chained program's next array); empty for none.
  /// `carry_from`: key of the instance of another version this one replaces; its state maps
  /// are copied into the new maps before map_args are written (chaining.md §4.2).
  Result<ProgramRecord> build(const std::string& iface, model::Hook h, const model::BpfProgram& p,
                              const std::string& private_map, Plan::Fill& fill,
                              const std::optional<std::string>& carry_from = std::nullopt);

  /// Appends the release steps of a program that leaves the data path: unload, and removal of
  /// its package unless still used (once per package).
  void release(const ProgramRecord& r);
  /// Release of a root: unload only (its package stays cached for the next first program).
  void release_root(const ProgramRecord& r);

 private:
  const PlannerConfig& cfg_;
  Plan& plan_;
  const PinnedLinks* adopt_;
  std::set<std::pair<std::string, std::string>> released_packages_;
};

/// The kernel port key of instance number `n` of `p` on iface/hook:
/// `<iface>/<direction>/<name>/<V>#<n>` (unique per applied state via next_instance).
std::string instance_key(const std::string& iface, model::Hook h, const model::BpfProgram& p,
                         uint64_t n);

/// Package of a program: its own repository URL, else the configured default.
PackageRef package_of(const model::BpfProgram& p, const std::string& default_repo);

/// Appends the steps that take one chained hook from `old` (live chain, `old_root` its root if
/// any) to the programs `want` (enabled, in seq_id order) and returns the resulting records;
/// `root_out` receives the hook's root afterwards (nullopt when the hook ends up empty).
/// Registers fills for every new instance. Errors: InvalidPayload (chain too long).
Result<std::vector<ProgramRecord>> plan_chained_hook(
    PlanBuilder& b, const std::string& iface, model::Hook h, const std::vector<ProgramRecord>& old,
    const std::optional<ProgramRecord>& old_root, const std::vector<model::BpfProgram>& want,
    std::optional<ProgramRecord>& root_out, bool& changed);

/// The root of a hook as a program definition (l3af-compat.md §8.3).
model::BpfProgram root_program(const RootDef& d, model::Hook h);

/// Fields applied to a running instance without rebuilding it (l3af-compat.md §6.3): map_args,
/// monitor_maps and cfg_version; with chaining also seq_id (the position is the chain's job).
bool differs_only_in_place(const model::BpfProgram& a, const model::BpfProgram& b, bool chaining);

}  // namespace l3afd::engine
