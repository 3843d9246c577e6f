// The metrics listener: GET /metrics in the Prometheus text format 0.0.4 (docs/compatibility.md
// §13). This version exports l3afd_BPFRunning (1 per program attached, 0 while the health check
// finds its BPF program not loaded or its supervised companion down), the program event series
// of engine/program_counters.h (StartCount, StartTime, StopCount, UpdateCount,
// UpdateFailedCount, DeployFailedCount) and l3afd_BPFMonitorMap (monitor_maps entries) with the
// reference's names, HELP texts and label sets, the project's own families (docs/metrics.md) and
// process_*. The text is written by prometheus-cpp (metrics/exposition.h).
#pragma once

#include "api/http/router.h"
#include "api/monitor_sampler.h"
#include "engine/engine.h"
#include "metrics/request_metrics.h"

namespace l3afd::api {

/// Renders the exposition for a snapshot and the sampler's monitor_maps series (`sampled`).
/// Beyond the reference (snake_case, promtool-clean): l3afd_chain_length (programs chained on
/// each hook), l3afd_companion_restarts_total (restarts of each supervised user program) and
/// l3afd_monitor_read_errors_total (`monitor_read_errors`: failed samples), and
/// l3afd_api_request_duration_seconds from `requests` when given.
std::string render_metrics(const engine::Snapshot& snap, const std::vector<MonitorSeries>& sampled,
                           std::uint64_t monitor_read_errors, const std::string& host_name,
                           const metrics::RequestMetrics* requests = nullptr);

http::Router make_metrics_router(engine::Engine& engine, const MonitorSampler& sampler,
                                 std::string host_name,
                                 const metrics::RequestMetrics* requests = nullptr);

}  // namespace l3afd::api
