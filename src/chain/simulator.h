// A model of the prog-array slots of one hook, to check write sequences without a kernel.
// Used by the chain unit tests and, later, by the engine to predict the live chain after a
// plan step. Pure values, no I/O.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "chain/chain_types.h"
#include "core/result.h"

namespace l3afd::chain {

/// Slot 0 of every array of a hook: root and instance arrays. A missing key and a key mapped
/// to nullopt both mean "empty slot" (a freshly created array is empty).
struct ChainState {
  std::map<Slot, std::optional<Instance>> slots;
  bool operator==(const ChainState&) const = default;
};

/// The state in which `chain` is live: root -> chain[0] -> ... -> chain.back() -> empty.
/// Precondition: `chain` holds no instance twice (otherwise the result has a cycle).
ChainState wired(const std::vector<Instance>& chain);

/// `state` after the single write `w`. Internal error if `w` is malformed (Set without a
/// target, Clear with one).
Result<ChainState> apply(ChainState state, const Write& w);

/// The instances a packet traverses, following slot 0 from the root until an empty slot.
/// Internal error if an instance is met twice (a cycle: the kernel would stop at the tail-call
/// limit, K4). Never loops: at most slots.size() steps are taken.
Result<std::vector<Instance>> reachable(const ChainState& state);

}  // namespace l3afd::chain
