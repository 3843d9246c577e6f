// Planner: pure. Turns (applied state, desired state) into a Plan: the steps that take the
// kernel, the package cache and the store from the applied state to the desired one, plus the
// state that results. No I/O.
//
// What is wanted comes from desired_state.h; how each hook gets there is a HookStrategy
// (hook_strategy.h): direct attach without chaining, a tail-call chain with it.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/action.h"
#include "engine/desired_state.h"
#include "engine/state.h"
#include "layout/bpffs_layout.h"

namespace l3afd::engine {

/// Links found pinned in bpffs at start, by (interface, hook): the restore takes them over
/// (switches their program atomically) instead of attaching anew, so a crash in the middle of
/// an upgrade never leaves the hook busy with the old version or empty (docs/chain-protocol.md
/// §4.8).
using PinnedLinks = std::map<std::pair<std::string, model::Hook>, std::filesystem::path>;

/// The root program of one hook under chaining ([xdp-root] / [tc-root], docs/chain-protocol.md
/// §1.1).
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

class PlanBuilder;

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
  /// How long the binary of a self-loading program has to pin its next array, and then to write
  /// its program into the staging slot (docs/compatibility.md §11.1: 10 x 1 s each).
  std::chrono::milliseconds self_load_wait{10000};

  const RootDef& root(model::Hook h) const;
};

/// Inputs of a plan besides the states, so that the plan the planner emits is the plan that
/// runs (nothing edits it afterwards).
struct PlanOptions {
  /// false: no CommitState step, the store keeps what it has (StopAll: the next start redeploys).
  bool commit = true;
  /// Entries the store keeps besides the new state (the restored entries still pending),
  /// appended to CommitState's contents.
  std::vector<model::L3afBpfPrograms> extra_store_entries;
  /// Links left pinned by a previous run, taken over instead of attaching anew (restore only).
  const PinnedLinks* adopt = nullptr;
  /// Object keys of live instances (programs on hooks, probe entries) to replace by a fresh
  /// instance of the same definition although nothing about them changed: the health check's
  /// redeploy of a program the kernel lost (docs/compatibility.md §15). Make-before-break like
  /// an upgrade (docs/chain-protocol.md §4.3 "Upgrade / restart P -> P'": the new instance is
  /// built and wired, then one flip; maps pinned by name are shared, so their state is kept),
  /// and the program's supervised companion is stopped and started again with it.
  std::set<std::string> rebuild;
};

struct Plan {
  /// Undoable steps, in order; the last one is CommitState whenever anything changes (unless
  /// PlanOptions::commit is false).
  std::vector<Step> steps;
  /// Steps run after the commit to release what left the data path (failures only logged).
  std::vector<Step> release;
  /// The state after a successful run; records of new instances are completed from the
  /// outputs of the steps listed in `fills`.
  AppliedState next;
  /// Which step outputs complete which record of `next`.
  struct Fill {
    std::string iface;
    model::Hook hook = model::Hook::XdpIngress;
    std::size_t index = 0;  ///< position in next.ifaces[iface].hooks[hook]
    std::optional<StepRef<Package>> fetch;
    std::optional<StepRef<kernel::LoadedObject>> load;
    std::optional<StepRef<kernel::AttachInfo>> attach;  ///< none for chained programs
    bool root = false;  ///< the record is next.ifaces[iface].roots[hook]
  };
  std::vector<Fill> fills;
  /// Which step outputs complete which probe record of `next`.
  struct ProbeFill {
    std::size_t index = 0;  ///< position in next.probes
    StepRef<Package> fetch;
    StepRef<kernel::LoadedProbes> load;
  };
  std::vector<ProbeFill> probe_fills;
  /// The applied state changes (steps, or only the interface table).
  bool changed = false;

  /// Appends a step and returns a reference to its output, typed by the action.
  template <class A>
  StepRef<typename OutputOf<A>::type> append(std::string label, A action, ErrorItem subject = {}) {
    steps.push_back(Step{std::move(label), Action(std::move(action)), std::move(subject)});
    return StepRef<typename OutputOf<A>::type>(steps.size() - 1);
  }

  bool empty() const { return !changed && steps.empty() && release.empty(); }
};

/// Applies the outputs of a successful run to plan.next (prog ids, maps, attach info).
AppliedState complete(Plan&& plan, const std::vector<Output>& outputs);

class Planner {
 public:
  explicit Planner(PlannerConfig cfg) : cfg_(std::move(cfg)) {}

  /// `add` (§6.2): the applied state with the request merged (desired_state.h with_added).
  /// Errors: Conflict, InvalidPayload (chain shape).
  Result<Plan> add(const AppliedState& s, const model::ValidPrograms& req,
                   const PlanOptions& opts = {}) const;
  /// `update` (§6.3): exactly the request (from_update). Errors: Conflict, InvalidPayload.
  Result<Plan> update(const AppliedState& s, const model::ValidPrograms& req,
                      const PlanOptions& opts = {}) const;
  /// `delete` (§6.4): the applied state without the named programs (without).
  /// Errors: InvalidPayload (chain shape).
  Result<Plan> remove(const AppliedState& s, const model::ValidNames& req,
                      const PlanOptions& opts = {}) const;
  /// The steps from `s` to `d`: per hook, the strategy of hook_strategy.h; then CommitState
  /// (opts.commit) with the new state and opts.extra_store_entries. Errors: InvalidPayload
  /// (unsafe path component), Internal (inconsistent applied state).
  Result<Plan> transition(const AppliedState& s, const DesiredState& d,
                          const PlanOptions& opts = {}) const;

 private:
  Result<bool> plan_interface(PlanBuilder& b, const std::string& iface, const InterfaceRecord* cur,
                              const DesiredInterface* want) const;
  /// Probes: an equal one is kept, a new or changed one is loaded (the old one released after
  /// the commit), one no longer wanted is released. Returns whether anything changes.
  Result<bool> plan_probes(PlanBuilder& b, const std::vector<ProbeRecord>& cur,
                           const std::vector<model::BpfProgram>& want) const;
  PlannerConfig cfg_;
};

}  // namespace l3afd::engine
