// DesiredState (DESIGN.md §1.2): what the data path should look like, as specs — the interface
// table and, per hook, the enabled programs in execution order (without chaining at most one).
// Built by pure functions from the applied state and a validated request; every add / update /
// delete semantic of docs/compatibility.md §6 that is about *what* is wanted lives here, and the
// planner only decides *how* to get there.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/state.h"
#include "model/hook.h"
#include "model/l3af_types.h"
#include "model/validated.h"

namespace l3afd::engine {

struct DesiredInterface {
  std::string ipv4_address;
  /// Enabled programs per hook, in execution order (seq_id). A hook without programs is absent.
  std::map<model::Hook, std::vector<model::BpfProgram>> hooks;
  bool operator==(const DesiredInterface&) const = default;
};

struct DesiredState {
  std::map<std::string, DesiredInterface> ifaces;  ///< the interface table, by name
  /// bpf_programs.probes: global, identified by name, in the order they were added.
  std::vector<model::BpfProgram> probes;
  bool operator==(const DesiredState&) const = default;
};

/// What is applied now, as a desired state (the specs of every record; roots are not programs).
DesiredState desired_from(const AppliedState& s);

/// `add` (§6.2, Ours): `base` with the request merged. The interface table is merged (the
/// request's ipv4_address wins). An identical re-add is a no-op. Conflict (409): another
/// program on an occupied hook or two enabled programs for one hook without chaining; with
/// chaining, the same name with another definition or a seq_id already used on the hook.
/// Then check_chain_shapes.
Result<DesiredState> with_added(DesiredState base, const model::ValidPrograms& req, bool chaining);

/// `update` (§6.3, Ours): declarative. Listed interfaces get exactly the listed enabled
/// programs, unlisted interfaces are absent; a repeated interface: the later entry wins per
/// hook. Conflict: two enabled programs for one hook without chaining. Then check_chain_shapes.
/// Probes are upserted by name into `probes_now` (started if missing, restarted if changed,
/// kept if equal) and removed only by delete (§6.3, Ours).
Result<DesiredState> from_update(const model::ValidPrograms& req, bool chaining,
                                 std::vector<model::BpfProgram> probes_now = {});

/// `delete` (§6.4): `base` without the named programs; unknown names and interfaces are
/// ignored, the interface stays in the table. Then check_chain_shapes.
Result<DesiredState> without(DesiredState base, const model::ValidNames& req, bool chaining);

/// The chain-shape rules of a desired state (with chaining only; docs/chain-protocol.md §1.1, K4):
/// at most chain::kMaxChainLength programs per hook, and every program but the last has a map_name.
/// InvalidPayload with one item per problem (field "map_name" is completed into a JSON pointer
/// by engine/failure.h's locate()).
Status check_chain_shapes(const DesiredState& d, bool chaining);

}  // namespace l3afd::engine
