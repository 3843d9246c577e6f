// How one hook is made to run its ordered programs, switching atomically. The planner core
// (planner.cpp) knows nothing of attach modes: per hook it builds a HookChange, asks
// strategy_for() which strategy applies, and takes the HookResult. A new way to run a hook (a
// fused program, say) is one HookStrategy class and one line in strategy_for().
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/plan_builder.h"

namespace l3afd::engine {

/// One hook before and after.
struct HookChange {
  std::string iface;
  model::Hook hook = model::Hook::XdpIngress;
  std::vector<ProgramRecord> old;         ///< live programs, in execution order
  std::optional<ProgramRecord> old_root;  ///< the live root (chained hooks only)
  std::vector<model::BpfProgram> want;    ///< enabled programs wanted, in execution order
};

/// What the hook holds after the plan.
struct HookResult {
  std::vector<ProgramRecord> records;  ///< in execution order; new ones completed by fills
  std::optional<ProgramRecord> root;   ///< the hook's root afterwards, if any
  bool changed = false;                ///< the applied state of the hook changes
};

class HookStrategy {
 public:
  virtual ~HookStrategy() = default;
  /// Appends to b's plan the steps (and fills, and releases) that take the hook from
  /// c.old / c.old_root to c.want make-before-break. Errors: InvalidPayload (unsafe path
  /// component, chain shape), Internal (inconsistent applied state).
  virtual Result<HookResult> plan(PlanBuilder& b, const HookChange& c) const = 0;
};

/// Without chaining: at most one program, attached directly; a replacement switches the link
/// in one step (docs/chain-protocol.md §4.10). direct_attach.cpp.
class DirectAttach final : public HookStrategy {
 public:
  Result<HookResult> plan(PlanBuilder& b, const HookChange& c) const override;
};

/// With chaining: a root per hook and a tail-call chain, changed through chain::plan_chain
/// (docs/chain-protocol.md §4.3). tail_call_chain.cpp.
class TailCallChain final : public HookStrategy {
 public:
  Result<HookResult> plan(PlanBuilder& b, const HookChange& c) const override;
};

/// The strategy of a hook: the tail-call chain with chaining enabled or while a root is live
/// (a chained hook is taken down by the strategy that built it), else direct attach.
const HookStrategy& strategy_for(const PlannerConfig& cfg, const HookChange& c);

}  // namespace l3afd::engine
