// Start-up sweep of what a crashed run left behind (DESIGN.md §4 "intent before effect",
// simplified): after the persisted state has been restored, every pin in l3afd's own trees
// (B/progs, B/links) that belongs to no program of the restored (or pending) state is removed,
// together with the map directory of that program instance. Removing a link pin detaches the
// link, so a change that was applied but never committed is undone.
//
// Only paths computed by layout::BpffsLayout are touched; map directories are only removed for
// program instances found in B/progs or B/links, never by scanning B/ itself (other tools pin
// there too).
#pragma once

#include <filesystem>
#include <vector>

#include "engine/engine.h"
#include "layout/bpffs_layout.h"

namespace l3afd::daemon {

/// The links l3afd pinned in a previous run, by (interface, hook), for the restore to take over.
engine::PinnedLinks find_pinned_links(const layout::BpffsLayout& layout);

/// Removes residue as described above and returns what was removed (logged by the caller).
/// Interfaces named by a pending entry are left alone entirely: their programs may still be
/// running from the previous run and nothing has replaced them.
/// Errors are logged and skipped: a sweep that cannot remove something must not stop the daemon.
std::vector<std::filesystem::path> sweep_residue(const layout::BpffsLayout& layout,
                                                 const engine::Snapshot& keep);

}  // namespace l3afd::daemon
