// Planner: pure. Turns (applied state, request) into a Plan: the steps that take the kernel,
// the package cache and the store from the applied state to the requested one, plus the
// state that results. No I/O; every decision about add/update/delete semantics
// (l3af-compat.md §6) is made here and nowhere else.
//
// Two strategies per hook: without chaining at most one program per (interface, hook), attached
// directly and switched with one link update (chaining.md §4.10); with chaining
// (bpf-chaining-enabled: true) a root per hook and a tail-call chain in seq_id order, changed
// make-before-break through chain::plan_chain (chaining.md §4.3), see chain_steps.cpp.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/action.h"
#include "engine/state.h"
#include "layout/bpffs_layout.h"

namespace l3afd::engine {

/// Links found pinned in bpffs at start, by (interface, hook): the restore takes them over
/// (switches their program atomically) instead of attaching anew, so a crash in the middle of
/// an upgrade never leaves the hook busy with the old version or empty (chaining.md §4.8).
using PinnedLinks = std::map<std::pair<std::string, model::Hook>, std::filesystem::path>;

/// The root program of one hook under chaining ([xdp-root] / [tc-root], chaining.md §1.1).
struct RootDef {
  std::string package_name;
  std::string version;
  std::string artifact;
  std::string object_file;
  std::string entry_function;
  std::string array_map;  ///< its 1-slot PROG_ARRAY, pinned at B/<iface>/<pkg>/V/<array_map>
};

/// Order of the slot writes of a chain change. OriginalUnsafe reproduces l3afd v2.1.0 (clear the
/// predecessor's slot first, build, flip, then wire the new program to its successor, W1/W5):
/// it exists only as the control of the chain packet test, which must see skips with it, and
/// is never the default.
enum class ChainOrder { MakeBeforeBreak, OriginalUnsafe };

struct PlannerConfig {
  std::string default_repo_url;  ///< [ebpf-repo] url
  layout::BpffsLayout layout{"/sys/fs/bpf"};
  kernel::TcMode tc_mode = kernel::TcMode::Auto;
  std::string host_name;
  bool chaining = false;  ///< [l3afd] bpf-chaining-enabled
  RootDef xdp_root{"xdp-root",       "latest",   "l3af_xdp_root.tar.gz",
                   "xdp_root.bpf.o", "xdp_root", "xdp_root_array"};
  RootDef tc_ingress_root{"tc-root",
                          "latest",
                          "l3af_tc_root.tar.gz",
                          "tc_root_ingress.bpf.o",
                          "tc_ingress_root",
                          "tc_ingress_root_array"};
  RootDef tc_egress_root{"tc-root",
                         "latest",
                         "l3af_tc_root.tar.gz",
                         "tc_root_egress.bpf.o",
                         "tc_egress_root",
                         "tc_egress_root_array"};
  ChainOrder chain_order = ChainOrder::MakeBeforeBreak;

  const RootDef& root(model::Hook h) const;
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
    std::size_t attach_step = 0;  ///< output: AttachInfo (none for chained programs)
    bool root = false;            ///< the record is next.ifaces[iface].roots[hook]
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
  Result<Plan> remove(const AppliedState& s,
                      const std::vector<model::L3afBpfProgramNames>& req) const;

 private:
  struct Target;
  Result<Plan> transition(const AppliedState& s, const Target& t,
                          const PinnedLinks* adopt = nullptr) const;
  Status check_chains(const Target& t) const;
  PlannerConfig cfg_;
};

}  // namespace l3afd::engine
