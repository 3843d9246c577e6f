// Planner: pure. Turns (applied state, request) into a Plan: the steps that take the kernel,
// the package cache and the store from the applied state to the requested one, plus the
// state that results. No I/O; every decision about add/update/delete semantics
// (l3af-compat.md §6) is made here and nowhere else.
//
// This version plans non-chained mode (bpf-chaining-enabled: false): at most one program per
// (interface, hook), attached directly. Chained planning is a separate strategy (issue 3).
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include "engine/action.h"
#include "engine/state.h"
#include "layout/bpffs_layout.h"

namespace l3afd::engine {

/// Links found pinned in bpffs at start, by (interface, hook): the restore takes them over
/// (switches their program atomically) instead of attaching anew, so a crash in the middle of
/// an upgrade never leaves the hook busy with the old version or empty (chaining.md §4.8).
using PinnedLinks = std::map<std::pair<std::string, model::Hook>, std::filesystem::path>;

struct PlannerConfig {
  std::string default_repo_url;  ///< [ebpf-repo] url
  layout::BpffsLayout layout{"/sys/fs/bpf"};
  kernel::TcMode tc_mode = kernel::TcMode::Auto;
  std::string host_name;
};

struct Plan {
  /// Undoable steps, in order; the last one is CommitState whenever anything changes.
  std::vector<Step> steps;
  /// Steps run after the commit to release what left the data path (failures only logged).
  std::vector<Step> release;
  /// The state after a successful run; records of new instances are completed from the
  /// outputs of the steps listed in `fills`.
  AppliedState next;
  struct Fill {
    std::string iface;
    model::Hook hook;
    std::size_t index = 0;        ///< position in next.ifaces[iface].hooks[hook]
    std::size_t fetch_step = 0;   ///< output: Package
    std::size_t load_step = 0;    ///< output: LoadedObject
    std::size_t attach_step = 0;  ///< output: AttachInfo
  };
  std::vector<Fill> fills;

  bool empty() const { return steps.empty() && release.empty(); }
};

/// Applies the outputs of a successful run to plan.next (prog ids, maps, attach info).
AppliedState complete(Plan&& plan, const std::vector<Output>& outputs);

class Planner {
 public:
  explicit Planner(PlannerConfig cfg) : cfg_(std::move(cfg)) {}

  /// `add` (§6.2, Ours): additive; identical re-add is a no-op; another program on an occupied
  /// hook, or two enabled programs for one hook, is Conflict (409). The interface table is merged.
  Result<Plan> add(const AppliedState& s, const std::vector<model::L3afBpfPrograms>& req,
                   const PinnedLinks* adopt = nullptr) const;
  /// `update` (§6.3, Ours): declarative. Listed interfaces get exactly the listed enabled
  /// programs; programs missing from the payload are removed; unlisted interfaces are removed.
  Result<Plan> update(const AppliedState& s, const std::vector<model::L3afBpfPrograms>& req) const;
  /// `delete` (§6.4): removes the named programs; unknown names are ignored; the interface
  /// stays in the table.
  Result<Plan> remove(const AppliedState& s, const std::vector<model::L3afBpfProgramNames>& req) const;

 private:
  struct Target;
  Result<Plan> transition(const AppliedState& s, const Target& t,
                          const PinnedLinks* adopt = nullptr) const;
  PlannerConfig cfg_;
};

}  // namespace l3afd::engine
