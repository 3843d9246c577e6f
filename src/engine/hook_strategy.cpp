#include "engine/hook_strategy.h"

namespace l3afd::engine {

const HookStrategy& strategy_for(const PlannerConfig& cfg, const HookChange& c) {
  static const DirectAttach kDirect;
  static const TailCallChain kChain;
  if (cfg.chaining || c.old_root) return kChain;
  return kDirect;
}

}  // namespace l3afd::engine
