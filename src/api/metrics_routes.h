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
#include "kernel/kernel.h"
#include "kernel/stats_switch.h"
#include "metrics/request_metrics.h"

#include <functional>

namespace l3afd::api {

/// The kernel's run statistics of a loaded object key (kernel::Kernel::program_run_stats).
using RunStatsFn = std::function<Result<kernel::RunStats>(const std::string& object_key)>;

/// Renders the exposition for a snapshot and the sampler's max-rate/avg series (`sampled`);
/// scalar monitor_maps entries are read now through the snapshot's map readers, and the number
/// of those reads that failed goes to `*scalar_failures_out` (and into
/// l3afd_monitor_read_errors_total of this text, on top of `monitor_read_errors`).
/// Beyond the reference (snake_case, promtool-clean): l3afd_chain_length (programs chained on
/// each hook), l3afd_companion_restarts_total (restarts of each supervised user program) and
/// l3afd_monitor_read_errors_total (`monitor_read_errors`: failed samples), and
/// l3afd_api_request_duration_seconds from `requests` when given, and
/// l3afd_program_run_count_total / l3afd_program_run_time_seconds_total per program (and probe)
/// from `run_stats` when given (the daemon gives it only while kernel BPF stats are on).
std::string render_metrics(const engine::Snapshot& snap, const std::vector<MonitorSeries>& sampled,
                           std::uint64_t monitor_read_errors, const std::string& host_name,
                           const metrics::RequestMetrics* requests = nullptr,
                           const RunStatsFn& run_stats = {},
                           std::uint64_t* scalar_failures_out = nullptr);

http::Router make_metrics_router(engine::Engine& engine, const MonitorSampler& sampler,
                                 std::string host_name,
                                 const metrics::RequestMetrics* requests = nullptr,
                                 kernel::Kernel* kernel = nullptr,
                                 const kernel::StatsSwitch* stats = nullptr);

}  // namespace l3afd::api
