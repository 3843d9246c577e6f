// The program event counters of /metrics (docs/compatibility.md §13), counted by the engine from
// the plans it completes and the requests that fail: l3afd_BPFStartCount (+1 per new program
// instance, a root too: "Ours counts root starts"; +1 per probe program attached, named
// "<probe name>_<section prefix>_<hook>" with empty other labels), l3afd_BPFStopCount (+1 per
// instance unloaded, roots and probes included), l3afd_BPFUpdateCount (+1 per map_args
// application, +1 per successful cmd_update), l3afd_BPFUpdateFailedCount (+1 per failed
// cmd_update), l3afd_BPFDeployFailedCount (+1 per program named by a failed add or update; an
// empty program for host/interface failures), and the l3afd_BPFStartTime gauge (unix seconds of
// the latest start, dropped at stop). Pure.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/planner.h"
#include "engine/state.h"

namespace l3afd::engine {

struct CounterLabels {
  std::string ebpf_program;
  std::string direction;  ///< xdpingress | ingress | egress; "" for probes (DeployFailed: "xdp")
  std::string interface_name;
  std::string ipv4_address;
  auto operator<=>(const CounterLabels&) const = default;
};
using CounterSeries = std::map<CounterLabels, std::uint64_t>;

struct ProgramCounters {
  CounterSeries start, stop, update, update_failed, deploy_failed;
  std::map<CounterLabels, std::int64_t> start_time;  ///< unix seconds; erased at stop
  bool operator==(const ProgramCounters&) const = default;
};

/// The starts of a completed plan: its fills (new instances, roots included) and probe fills,
/// looked up in `next` (the state complete() returned). `now`: unix seconds.
void count_starts(ProgramCounters& c, const AppliedState& next,
                  const std::vector<Plan::Fill>& fills,
                  const std::vector<Plan::ProbeFill>& probe_fills, std::int64_t now);

/// The stops of a completed plan: every instance (program, root, probe) of `before` whose
/// object key is gone from `after`.
void count_stops(ProgramCounters& c, const AppliedState& before, const AppliedState& after);

/// The updates of a completed plan: each ConfigureMaps step writing map_args and each
/// UpdateCompanion step. `next` gives the interfaces' ipv4_address.
void count_updates(ProgramCounters& c, const std::vector<Step>& steps, const AppliedState& next);

/// A failed add or update (`e` as the engine returns it): +1 DeployFailed per item naming a
/// program (direction "xdp" for XDP, as l3afd v2.1.0), one with an empty program per interface
/// for host/interface failures; +1 UpdateFailed when the failing step ran cmd_update.
void count_failure(ProgramCounters& c, const Error& e, const AppliedState& s);

/// The ebpf_program label of a probe program: "<name>_" + the first two non-empty
/// '/'-separated parts of its section, joined by '_' (tracepoint/sock/inet_sock_set_state of
/// connection-limit → "connection-limit_tracepoint_sock"; a uprobe "uprobe//usr/bin/x:f" →
/// "<name>_uprobe_usr").
std::string probe_metric_name(const std::string& name, const std::string& section);

}  // namespace l3afd::engine
