#include "api/metrics_routes.h"

#include "metrics/exposition.h"
#include "metrics/process.h"

#include <map>
#include <tuple>

namespace l3afd::api {

namespace {

using prometheus::MetricType;

}  // namespace

std::string render_metrics(const engine::Snapshot& snap, kernel::Kernel& kernel,
                           const std::vector<MonitorSeries>& sampled,
                           std::uint64_t monitor_read_errors, const std::string& host_name,
                           const metrics::RequestMetrics* requests) {
  metrics::Exposition out;
  // l3afd_BPFMonitorMap series by labels: scalar read now, max-rate/avg from the sampler.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, double> monitored;
  for (const auto& m : sampled) {
    monitored[{m.ebpf_program, m.interface_name, m.ipv4_address, m.map_name}] = m.value;
  }
  auto read_scalars = [&](const model::BpfProgram& spec, const std::string& object_key,
                          const std::string& iface, const std::string& ipv4) {
    for (const auto& m : spec.monitor_maps.value_or(std::vector<model::MonitorMap>{})) {
      if (m.aggregator != "scalar" || object_key.empty()) continue;
      auto v = kernel.read_map_value(object_key, m.name, static_cast<uint64_t>(m.key));
      if (!v) continue;  // a failed read is skipped, never published as 0
      monitored[{spec.name, iface, ipv4, m.name + "_" + std::to_string(m.key) + "_scalar"}] =
          static_cast<double>(*v);
    }
  };
  for (const auto& p : snap.state.probes) read_scalars(p.spec, p.object_key, "", "");
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
        // 0 while the program's supervised companion is down (docs/compatibility.md §15).
        bool up = true;
        auto c = snap.companions.find(engine::companion_id(iface, hook, p.spec));
        if (c != snap.companions.end()) {
          up = c->second.running;
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
        read_scalars(p.spec, p.object_key, iface, rec.ipv4_address);
      }
    }
  }
  for (const auto& [l, v] : monitored) {
    out.add("l3afd_BPFMonitorMap", "This value indicates BPF program monitor counters",
            MetricType::Gauge,
            {{"ebpf_program", std::get<0>(l)},
             {"host", host_name},
             {"interface_name", std::get<1>(l)},
             {"ipv4_address", std::get<2>(l)},
             {"map_name", std::get<3>(l)}},
            v);
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
          MetricType::Counter, {{"host", host_name}}, static_cast<double>(monitor_read_errors));
  if (requests != nullptr) out.add_families(requests->collect());
  if (auto p = metrics::read_process_stats()) metrics::add_process(out, *p);
  return out.serialize();
}

http::Router make_metrics_router(engine::Engine& engine, kernel::Kernel& kernel,
                                 const MonitorSampler& sampler, std::string host_name,
                                 const metrics::RequestMetrics* requests) {
  http::Router r;
  r.add("GET", "/metrics", [&engine, &kernel, &sampler, host_name, requests](const http::Request&) {
    http::Response out;
    out.content_type = "text/plain; version=0.0.4; charset=utf-8";
    out.body = render_metrics(*engine.snapshot(), kernel, sampler.values(), sampler.read_failures(),
                              host_name, requests);
    return out;
  });
  return r;
}

}  // namespace l3afd::api
