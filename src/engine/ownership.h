// Intent before effect (DESIGN.md §4 notes; docs/chain-protocol.md §8): the engine records
// every program instance whose pins it is about to create *before* a plan touches the kernel,
// and re-records what it still owns after the plan and after each release. The start-up
// residue sweep (daemon/residue.h) removes only instances recorded here that the restored
// state no longer uses, so a pin the daemon cannot prove it made is never removed — another
// instance's or another tool's leftovers under the same bpffs stay untouched. The record's
// type and port (OwnedInstance, OwnershipJournal) are in engine/ports.h.
#pragma once

#include <vector>

#include "engine/ports.h"
#include "engine/state.h"

namespace l3afd::engine {

/// Every instance of `s` (programs and roots), sorted, without duplicates. Pure.
std::vector<OwnedInstance> owned_by(const AppliedState& s);

/// Sorted union of two sorted, duplicate-free lists. Pure.
std::vector<OwnedInstance> merge_owned(const std::vector<OwnedInstance>& a,
                                       const std::vector<OwnedInstance>& b);

}  // namespace l3afd::engine
