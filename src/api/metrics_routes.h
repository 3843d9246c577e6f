// The metrics listener: GET /metrics in the Prometheus text format 0.0.4 (docs/compatibility.md
// §13). This version exports l3afd_BPFRunning (1 per program attached, 0 while the health check
// finds its BPF program not loaded or its supervised companion down), the program event series
// of engine/program_counters.h (StartCount, StartTime, StopCount, UpdateCount,
// UpdateFailedCount, DeployFailedCount) and
// l3afd_BPFMonitorMap (monitor_maps entries, scalar aggregator, read on each scrape) with the
// reference's names, HELP texts and label sets; values in Go's format (metrics/go_format.h).
#pragma once

#include "api/http/router.h"
#include "api/monitor_sampler.h"
#include "engine/engine.h"
#include "kernel/kernel.h"

namespace l3afd::api {

/// Renders the exposition for a snapshot: scalar monitor_maps entries read now through
/// `kernel.read_map_value` (which must be thread-safe), max-rate/avg ones from `sampled`.
/// Beyond the reference (snake_case, promtool-clean): l3afd_chain_length (programs chained on
/// each hook), l3afd_companion_restarts_total (restarts of each supervised user program) and
/// l3afd_monitor_read_errors_total (`monitor_read_errors`: failed samples).
std::string render_metrics(const engine::Snapshot& snap, kernel::Kernel& kernel,
                           const std::vector<MonitorSeries>& sampled,
                           std::uint64_t monitor_read_errors, const std::string& host_name);

http::Router make_metrics_router(engine::Engine& engine, kernel::Kernel& kernel,
                                 const MonitorSampler& sampler, std::string host_name);

}  // namespace l3afd::api
