// Start-up sweep of what a crashed run left behind (DESIGN.md §4 "intent before effect";
// docs/chain-protocol.md §8): after the persisted state has been restored, every program
// instance the ownership journal (engine/ownership.h) records as created by this daemon and
// that the restored (or pending) state does not use is removed — its link pin (which detaches
// the link), program pin, companion `*_tp` link pins and map directory. A change that was
// applied but never committed is undone that way.
//
// Nothing else is ever removed: pins under B/progs or B/links that the journal does not
// record (another daemon's, another tool's, or ours from before the journal existed) are left
// alone, and so is every path that does not have the shape layout::BpffsLayout gives an
// instance of the recorded interface.
#pragma once

#include <filesystem>
#include <vector>

#include "engine/engine.h"
#include "engine/ownership.h"
#include "layout/bpffs_layout.h"

namespace l3afd::daemon {

/// The links l3afd pinned in a previous run, by (interface, hook), for the restore to take over.
engine::PinnedLinks find_pinned_links(const layout::BpffsLayout& layout);

/// Removes the `recorded` instances `keep` does not use, as described above, and returns what
/// was removed (also logged). Interfaces named by a pending entry are left alone entirely:
/// their programs may still be running from the previous run and nothing has replaced them.
/// Paths shared with a kept instance (a map directory of TC ingress and egress, a link
/// directory) stay. Errors are logged and skipped: a sweep that cannot remove something must
/// not stop the daemon.
std::vector<std::filesystem::path> sweep_residue(
    const layout::BpffsLayout& layout, const engine::Snapshot& keep,
    const std::vector<engine::OwnedInstance>& recorded);

}  // namespace l3afd::daemon
