// Make-before-break planning for one hook (docs/chain-protocol.md §4.3): given the live chain and
// the desired chain, which instances to build, which slot writes to make in which order, and which
// instances to retire. Pure, no I/O; the engine's chained planner turns a Plan into kernel
// actions.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include "chain/chain_types.h"
#include "chain/limits.h"
#include "core/result.h"

namespace l3afd::chain {

/// InvalidPayload if a hook would carry `n` chained programs, more than kMaxChainLength.
Status check_length(std::size_t n);

/// What happens to the root of the hook; creating, attaching, detaching and removing the root
/// is the caller's job (docs/chain-protocol.md §4.7), the plan only says when.
enum class RootChange {
  Keep,    ///< the root exists before and after
  Create,  ///< empty hook gets its first program: load the root, apply the writes (the flip
           ///< fills root[0]), then attach it — the attach is the real switch-over
  Remove,  ///< last program leaves: the flip clears root[0]; the caller may instead detach the
           ///< root directly and then retire it with the old instances
};

/// Returns a new instance of the same program as `of` (same `program`, an `id` not used by any
/// other instance of the hook). Called for every program of the new chain that is already
/// loaded but must be rebuilt because its successor changes.
using FreshInstance = std::function<Instance(const Instance& of)>;

/// Result of plan_chain.
///
/// Executing it: build every instance of `build` (loading, maps, user programs,
/// docs/chain-protocol.md §4.4, any order), then make `writes` strictly in order. Every write
/// before `flip_index` touches only arrays of instances in `build`, which nothing live reaches
/// (failure there: discard `build`, the live chain is untouched). writes[*flip_index] is the one
/// write that switches the hook from `old_chain` to `chain` (I2). After the flip and a grace delay,
/// release every instance of `retire` (I5).
///
/// Choice: arrays of newly built instances are empty at creation, so no Clear is emitted for
/// them; the only Clear a plan can contain is the flip itself.
struct Plan {
  std::size_t prefix = 0;                 ///< `a`: length of the common prefix kept as is
  std::size_t suffix = 0;                 ///< `s`: length of the common suffix kept as is
  std::vector<Instance> chain;            ///< the live chain after the flip (fresh ids substituted)
  std::vector<Instance> build;            ///< instances to build before any write, in chain order
  std::vector<Write> writes;              ///< wiring writes (backwards), then the flip
  std::optional<std::size_t> flip_index;  ///< nullopt iff nothing changes (old == new)
  std::vector<Instance> retire;  ///< old instances unreachable after the flip, in old order
  RootChange root = RootChange::Keep;

  bool changes() const noexcept { return flip_index.has_value(); }
};

/// Plans the switch of one hook from `old_chain` (live, root excluded) to `new_chain`.
///
/// Elements of the two chains are compared as instances (§4.3). An element of `new_chain` that
/// is not in `old_chain` is a new instance the caller has not built yet; one that is in
/// `old_chain` is kept when it lies in the common prefix or suffix and is replaced by
/// `fresh(it)` when it lies in the middle.
///
/// Errors: InvalidPayload if `new_chain` is longer than kMaxChainLength or names a program
/// twice; Internal if `old_chain` names a program twice, or `fresh` returns an instance of
/// another program or one that already exists. Thread-safety: pure; `fresh` is called on the
/// caller's thread.
Result<Plan> plan_chain(const std::vector<Instance>& old_chain,
                        const std::vector<Instance>& new_chain, const FreshInstance& fresh);

}  // namespace l3afd::chain
