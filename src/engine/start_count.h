// l3afd_BPFStartCount (docs/compatibility.md §13): how many times each program was started,
// counted by the engine from the plans it completes. +1 per new program instance (a root too:
// "Ours counts root starts"), +1 per probe program attached, named
// "<probe name>_<section prefix>_<hook>" with empty other labels. Pure.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/planner.h"
#include "engine/state.h"

namespace l3afd::engine {

struct StartCountLabels {
  std::string ebpf_program;
  std::string direction;  ///< xdpingress | ingress | egress; "" for probes
  std::string interface_name;
  std::string ipv4_address;
  auto operator<=>(const StartCountLabels&) const = default;
};
using StartCounts = std::map<StartCountLabels, std::uint64_t>;

/// Adds the starts of a completed plan: its fills (new instances, roots included) and probe
/// fills, looked up in `next` (the state complete() returned).
void count_starts(StartCounts& counts, const AppliedState& next,
                  const std::vector<Plan::Fill>& fills,
                  const std::vector<Plan::ProbeFill>& probe_fills);

/// The ebpf_program label of a probe program: "<name>_" + the first two non-empty
/// '/'-separated parts of its section, joined by '_' (tracepoint/sock/inet_sock_set_state of
/// connection-limit → "connection-limit_tracepoint_sock"; a uprobe "uprobe//usr/bin/x:f" →
/// "<name>_uprobe_usr").
std::string probe_metric_name(const std::string& name, const std::string& section);

}  // namespace l3afd::engine
