// Intent before effect (DESIGN.md §4 notes; docs/chain-protocol.md §8): the engine records
// every program instance whose pins it is about to create *before* a plan touches the kernel,
// and re-records what it still owns after the plan and after each release. The start-up
// residue sweep (daemon/residue.h) removes only instances recorded here that the restored
// state no longer uses, so a pin the daemon cannot prove it made is never removed — another
// instance's or another tool's leftovers under the same bpffs stay untouched.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/state.h"
#include "layout/bpffs_layout.h"

namespace l3afd::engine {

/// The bpffs footprint of one program instance (or root) on one interface: everything its
/// load and attach create lies at or under these paths (companion `*_tp` links live in the
/// directory of `paths.link_pin`).
struct OwnedInstance {
  std::string iface;
  layout::ProgramPaths paths;
  auto operator<=>(const OwnedInstance& o) const {
    return std::tie(iface, paths.map_dir, paths.prog_pin, paths.link_pin) <=>
           std::tie(o.iface, o.paths.map_dir, o.paths.prog_pin, o.paths.link_pin);
  }
  bool operator==(const OwnedInstance& o) const { return (*this <=> o) == 0; }
};

/// Every instance of `s` (programs and roots), sorted, without duplicates. Pure.
std::vector<OwnedInstance> owned_by(const AppliedState& s);

/// Sorted union of two sorted, duplicate-free lists. Pure.
std::vector<OwnedInstance> merge_owned(const std::vector<OwnedInstance>& a,
                                       const std::vector<OwnedInstance>& b);

/// Port: where the record of owned instances is kept (adapter: store/ownership_journal.h).
/// Thread-safety: engine thread (and the daemon's start-up before the engine starts).
class OwnershipJournal {
 public:
  virtual ~OwnershipJournal() = default;
  /// Replaces the record with `owned`, atomically and durably (a crash leaves the old or the
  /// new record). Errors: Io.
  virtual Status record(const std::vector<OwnedInstance>& owned) = 0;
  /// The record; nullopt when none was ever written (a daemon that never recorded owns
  /// nothing it could prove). Errors: Io (unreadable), InvalidPayload (unparsable), with the
  /// file left untouched.
  virtual Result<std::optional<std::vector<OwnedInstance>>> load() = 0;
};

}  // namespace l3afd::engine
