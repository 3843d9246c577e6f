// The runtime state a graceful restart hands from the old process to the new one
// (docs/operations.md "Graceful restart"): what the store file and the pinned kernel state do
// not hold. Everything else the new process adopts from the kernel and the store exactly as a
// cold start does (docs/chain-protocol.md §4.8-4.9), so this is only what would otherwise be
// lost: the program event counters of /metrics (docs/compatibility.md §16.2 item 6).
// Encoded as versioned JSON (json/); unknown members are ignored so that an older new process
// can read a newer old one's state, and a missing member is an empty value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "engine/program_counters.h"
#include "model/l3af_types.h"

namespace l3afd::daemon {

inline constexpr std::int64_t kHandoverStateFormat = 1;

struct HandoverState {
  std::string from_version;  ///< the old process's l3afd version, for logs
  engine::ProgramCounters counters;
};

/// Compact JSON: {"format":1,"from_version":..,"counters":{"start":[{labels..,"value":n}],..}}.
std::string encode_handover_state(const HandoverState& s);

/// The definitions a graceful restart carries are what l3afd v2.1.0's hand-over (Go gob) makes
/// of them: every empty array — `map_args`, `monitor_maps`, a `map_args` entry's `args` — becomes
/// null; empty objects (`*_args`) stay (docs/compatibility.md §5.1 item 4; L3AF's e2e
/// exp_output_4.json depends on it). Applied by the new process to the stored entries it
/// restores; a cold start keeps `[]`.
void normalize_as_handed_over(std::vector<model::L3afBpfPrograms>& entries);

/// Errors: InvalidJson (not JSON, a member of the wrong type), InvalidPayload (a format this
/// version does not read).
Result<HandoverState> decode_handover_state(std::string_view text);

}  // namespace l3afd::daemon
