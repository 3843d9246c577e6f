#include "api/metrics_routes.h"

#include "metrics/exposition.h"
#include "metrics/process.h"

#include <set>
#include <tuple>

namespace l3afd::api {

namespace {

using prometheus::MetricType;

}  // namespace

std::string render_metrics(const engine::Snapshot& snap, const std::vector<MonitorSeries>& sampled,
                           std::uint64_t monitor_read_errors, const std::string& host_name,
                           const metrics::RequestMetrics* requests, const RunStatsFn& run_stats,
                           std::uint64_t* scalar_failures_out) {
  std::uint64_t scalar_failures = 0;
  metrics::Exposition out;
  for (const auto& [iface, rec] : snap.state.ifaces) {
    for (const auto& [hook, progs] : rec.hooks) {
      const std::string dir(model::direction(hook));
      if (rec.roots.contains(hook)) {
        out.add("l3afd_chain_length", "Programs chained on the hook behind its root.",
                MetricType::Gauge,
                {{"direction", dir}, {"host", host_name}, {"interface_name", iface}},
                static_cast<double>(progs.size()));
      }
      for (const auto& p : progs) {
        // 0 while the BPF program is not loaded or its supervised companion is down
        // (docs/compatibility.md §15).
        const bool up = engine::health_view(snap.companions, snap.programs,
                                            engine::companion_id(iface, hook, p.spec))
                            .running;
        auto c = snap.companions.find(engine::companion_id(iface, hook, p.spec));
        if (c != snap.companions.end()) {
          out.add("l3afd_companion_restarts_total",
                  "Restarts of the program's supervised user program since it was deployed.",
                  MetricType::Counter,
                  {{"direction", dir},
                   {"ebpf_program", p.spec.name},
                   {"host", host_name},
                   {"interface_name", iface}},
                  static_cast<double>(c->second.total_restarts));
        }
        out.add("l3afd_BPFRunning", "This value indicates BPF program is running or not",
                MetricType::Gauge,
                {{"direction", dir},
                 {"ebpf_program", p.spec.name},
                 {"host", host_name},
                 {"interface_name", iface},
                 {"ipv4_address", rec.ipv4_address},
                 {"version", p.spec.version}},
                up ? 1 : 0);
      }
    }
  }
  // The sampler's values are up to one tick old: a series whose program or entry left since is
  // not served (D35: gone with its program, in the same scrape as the delete's answer).
  std::set<std::tuple<std::string, std::string, std::string>> live;
  auto monitored = [&](const model::BpfProgram& spec, const std::string& iface) {
    for (const auto& m : spec.monitor_maps.value_or(std::vector<model::MonitorMap>{})) {
      for (const auto k : model::monitored_keys(m)) {
        live.emplace(spec.name, iface, m.name + "_" + std::to_string(k) + "_" + m.aggregator);
      }
    }
  };
  for (const auto& p : snap.state.probes) monitored(p.spec, "");
  for (const auto& [iface, rec] : snap.state.ifaces) {
    for (const auto& [hook, progs] : rec.hooks) {
      for (const auto& p : progs) monitored(p.spec, iface);
    }
  }
  // scalar entries: read now, through the snapshot's map readers (no kernel port, no lock
  // shared with loads). A failed read is counted and left out, never published as 0.
  std::vector<MonitorSeries> scalars;
  auto read_scalars = [&](const model::BpfProgram& spec, const std::string& object_key,
                          const std::string& iface, const std::string& ipv4) {
    for (const auto& m : spec.monitor_maps.value_or(std::vector<model::MonitorMap>{})) {
      if (m.aggregator != "scalar" || object_key.empty()) continue;
      auto r = snap.monitor_readers.find({object_key, m.name});
      for (const auto k : model::monitored_keys(m)) {
        auto v = r == snap.monitor_readers.end()
                     ? Result<std::uint64_t>(fail(Errc::NotFound, "no reader"))
                     : r->second->read(k);
        if (!v) {
          ++scalar_failures;
          continue;
        }
        scalars.push_back(MonitorSeries{spec.name, iface, ipv4,
                                        m.name + "_" + std::to_string(k) + "_scalar",
                                        static_cast<double>(*v)});
      }
    }
  };
  for (const auto& p : snap.state.probes) read_scalars(p.spec, p.object_key, "", "");
  for (const auto& [iface, rec] : snap.state.ifaces) {
    for (const auto& [hook, progs] : rec.hooks) {
      for (const auto& p : progs) read_scalars(p.spec, p.object_key, iface, rec.ipv4_address);
    }
  }
  if (scalar_failures_out != nullptr) *scalar_failures_out = scalar_failures;
  std::vector<MonitorSeries> all = sampled;
  all.insert(all.end(), scalars.begin(), scalars.end());
  for (const auto& m : all) {
    if (!live.contains({m.ebpf_program, m.interface_name, m.map_name})) continue;
    out.add("l3afd_BPFMonitorMap", "This value indicates BPF program monitor counters",
            MetricType::Gauge,
            {{"ebpf_program", m.ebpf_program},
             {"host", host_name},
             {"interface_name", m.interface_name},
             {"ipv4_address", m.ipv4_address},
             {"map_name", m.map_name}},
            m.value);
  }
  // The program event series (engine/program_counters.h); `program_label` is "bpf_program" for
  // BPFUpdateFailedCount (the reference's label name, D36).
  auto family = [&](const char* name, const char* help, MetricType type, const auto& series,
                    const char* program_label) {
    for (const auto& [l, n] : series) {
      out.add(name, help, type,
              {{"direction", l.direction},
               {program_label, l.ebpf_program},
               {"host", host_name},
               {"interface_name", l.interface_name},
               {"ipv4_address", l.ipv4_address}},
              static_cast<double>(n));
    }
  };
  const auto& c = snap.counters;
  family("l3afd_BPFDeployFailedCount", "The count of BPF program failed to start or update",
         MetricType::Counter, c.deploy_failed, "ebpf_program");
  family("l3afd_BPFStartCount", "The count of BPF program started", MetricType::Counter, c.start,
         "ebpf_program");
  family("l3afd_BPFStartTime",
         "This value indicates start time of the BPF program since unix epoch in seconds",
         MetricType::Gauge, c.start_time, "ebpf_program");
  family("l3afd_BPFStopCount", "The count of BPF program stopped", MetricType::Counter, c.stop,
         "ebpf_program");
  family("l3afd_BPFUpdateCount", "The count of BPF programs updated", MetricType::Counter, c.update,
         "ebpf_program");
  family("l3afd_BPFUpdateFailedCount", "The count of Failed BPF program update args",
         MetricType::Counter, c.update_failed, "bpf_program");
  out.add("l3afd_monitor_read_errors_total", "monitor_maps samples that could not be read.",
          MetricType::Counter, {{"host", host_name}},
          static_cast<double>(monitor_read_errors + scalar_failures));
  if (requests != nullptr) out.add_families(requests->collect());
  if (run_stats) {
    // Cumulative since the instance was loaded; a new instance starts again at 0 (a counter
    // reset, which rate() handles). A program that left in between is skipped.
    auto add_stats = [&](const std::string& object_key, const std::string& program,
                         const std::string& dir, const std::string& iface) {
      auto st = run_stats(object_key);
      if (!st) return;
      const metrics::Labels l{{"direction", dir},
                              {"ebpf_program", program},
                              {"host", host_name},
                              {"interface_name", iface}};
      out.add("l3afd_program_run_count_total",
              "Runs of the program counted by the kernel while BPF stats were on.",
              MetricType::Counter, l, static_cast<double>(st->run_count));
      out.add("l3afd_program_run_time_seconds_total",
              "Time the kernel measured in the program's runs while BPF stats were on.",
              MetricType::Counter, l, static_cast<double>(st->run_time_ns) / 1e9);
    };
    for (const auto& [iface, rec] : snap.state.ifaces) {
      for (const auto& [hook, progs] : rec.hooks) {
        for (const auto& p : progs) {
          if (!p.object_key.empty()) {
            add_stats(p.object_key, p.spec.name, std::string(model::direction(hook)), iface);
          }
        }
      }
    }
    for (const auto& p : snap.state.probes) {
      if (!p.object_key.empty()) add_stats(p.object_key, p.spec.name, "", "");
    }
  }
  if (auto p = metrics::read_process_stats()) metrics::add_process(out, *p);
  return out.serialize();
}

http::Router make_metrics_router(engine::Engine& engine, const MonitorSampler& sampler,
                                 std::string host_name, const metrics::RequestMetrics* requests,
                                 kernel::Kernel* kernel, const kernel::StatsSwitch* stats) {
  http::Router r;
  r.add("GET", "/metrics",
        [&engine, &sampler, host_name, requests, kernel, stats](const http::Request&) {
          // Run statistics only while the kernel counts them: otherwise they would be frozen
          // values that look like an idle program.
          RunStatsFn run_stats;
          if (kernel != nullptr && stats != nullptr && stats->bpf_stats_on()) {
            run_stats = [kernel](const std::string& key) { return kernel->program_run_stats(key); };
          }
          http::Response out;
          out.content_type = "text/plain; version=0.0.4; charset=utf-8";
          std::uint64_t failed = 0;
          out.body = render_metrics(*engine.snapshot(), sampler.values(), sampler.read_failures(),
                                    host_name, requests, run_stats, &failed);
          sampler.count_scrape_failures(failed);
          return out;
        });
  return r;
}

}  // namespace l3afd::api
