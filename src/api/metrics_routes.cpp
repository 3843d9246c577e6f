#include "api/metrics_routes.h"

#include "metrics/go_format.h"
#include "metrics/process.h"

#include <map>
#include <tuple>

namespace l3afd::api {

namespace {

std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

/// Labels are printed sorted by name, as the Go client does.
std::string labels(const std::map<std::string, std::string>& l) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : l) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"" + label_value(v) + "\"";
  }
  return out + "}";
}

}  // namespace

std::string render_metrics(const engine::Snapshot& snap, kernel::Kernel& kernel,
                           const std::vector<MonitorSeries>& sampled,
                           std::uint64_t monitor_read_errors, const std::string& host_name) {
  std::string running;
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
      for (const auto& p : progs) {
        const std::string dir(model::direction(hook));
        // 0 while the BPF program is not loaded or its supervised companion is down
        // (docs/compatibility.md §15).
        const bool up = engine::health_view(snap.companions, snap.programs,
                                            engine::companion_id(iface, hook, p.spec))
                            .running;
        running += "l3afd_BPFRunning" +
                   labels({{"direction", dir},
                           {"ebpf_program", p.spec.name},
                           {"host", host_name},
                           {"interface_name", iface},
                           {"ipv4_address", rec.ipv4_address},
                           {"version", p.spec.version}}) +
                   (up ? " 1\n" : " 0\n");
        read_scalars(p.spec, p.object_key, iface, rec.ipv4_address);
      }
    }
  }
  // One family of program event series (engine/program_counters.h); `program_label` is
  // "bpf_program" for BPFUpdateFailedCount (the reference's label name, D36).
  auto family = [&](const std::string& name, const char* help, const char* type, const auto& series,
                    const char* program_label) {
    std::string body;
    for (const auto& [l, n] : series) {
      body += name +
              labels({{"direction", l.direction},
                      {program_label, l.ebpf_program},
                      {"host", host_name},
                      {"interface_name", l.interface_name},
                      {"ipv4_address", l.ipv4_address}}) +
              " " + metrics::go_float(static_cast<double>(n)) + "\n";
    }
    if (body.empty()) return std::string();
    return "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + body;
  };
  const auto& c = snap.counters;
  // Families in name order, as the Go client prints them; a family without series is left out.
  std::string out =
      family("l3afd_BPFDeployFailedCount", "The count of BPF program failed to start or update",
             "counter", c.deploy_failed, "ebpf_program");
  std::string monitor;
  for (const auto& [l, v] : monitored) {
    monitor += "l3afd_BPFMonitorMap" +
               labels({{"ebpf_program", std::get<0>(l)},
                       {"host", host_name},
                       {"interface_name", std::get<1>(l)},
                       {"ipv4_address", std::get<2>(l)},
                       {"map_name", std::get<3>(l)}}) +
               " " + metrics::go_float(v) + "\n";
  }
  if (!monitor.empty()) {
    out +=
        "# HELP l3afd_BPFMonitorMap This value indicates BPF program monitor counters\n"
        "# TYPE l3afd_BPFMonitorMap gauge\n" +
        monitor;
  }
  if (!running.empty()) {
    out +=
        "# HELP l3afd_BPFRunning This value indicates BPF program is running or not\n"
        "# TYPE l3afd_BPFRunning gauge\n" +
        running;
  }
  out += family("l3afd_BPFStartCount", "The count of BPF program started", "counter", c.start,
                "ebpf_program");
  out += family("l3afd_BPFStartTime",
                "This value indicates start time of the BPF program since unix epoch in seconds",
                "gauge", c.start_time, "ebpf_program");
  out += family("l3afd_BPFStopCount", "The count of BPF program stopped", "counter", c.stop,
                "ebpf_program");
  out += family("l3afd_BPFUpdateCount", "The count of BPF programs updated", "counter", c.update,
                "ebpf_program");
  out += family("l3afd_BPFUpdateFailedCount", "The count of Failed BPF program update args",
                "counter", c.update_failed, "bpf_program");
  // Beyond the reference, snake_case (after the l3afd_BPF* families in name order).
  std::string chains, restarts;
  for (const auto& [iface, rec] : snap.state.ifaces) {
    for (const auto& [hook, progs] : rec.hooks) {
      if (rec.roots.contains(hook)) {
        chains += "l3afd_chain_length" +
                  labels({{"direction", std::string(model::direction(hook))},
                          {"host", host_name},
                          {"interface_name", iface}}) +
                  " " + metrics::go_float(static_cast<double>(progs.size())) + "\n";
      }
      for (const auto& p : progs) {
        auto cs = snap.companions.find(engine::companion_id(iface, hook, p.spec));
        if (cs == snap.companions.end()) continue;
        restarts += "l3afd_companion_restarts_total" +
                    labels({{"direction", std::string(model::direction(hook))},
                            {"ebpf_program", p.spec.name},
                            {"host", host_name},
                            {"interface_name", iface}}) +
                    " " + metrics::go_float(static_cast<double>(cs->second.total_restarts)) + "\n";
      }
    }
  }
  if (!chains.empty()) {
    out +=
        "# HELP l3afd_chain_length Programs chained on the hook behind its root.\n"
        "# TYPE l3afd_chain_length gauge\n" +
        chains;
  }
  if (!restarts.empty()) {
    out +=
        "# HELP l3afd_companion_restarts_total Restarts of the program's supervised user "
        "program since it was deployed.\n"
        "# TYPE l3afd_companion_restarts_total counter\n" +
        restarts;
  }
  out +=
      "# HELP l3afd_monitor_read_errors_total monitor_maps samples that could not be read.\n"
      "# TYPE l3afd_monitor_read_errors_total counter\n"
      "l3afd_monitor_read_errors_total" +
      labels({{"host", host_name}}) + " " +
      metrics::go_float(static_cast<double>(monitor_read_errors)) + "\n";
  // process_* after l3afd_* (name order), as the Go client's process collector.
  if (auto p = metrics::read_process_stats()) out += metrics::render_process(*p);
  return out;
}

http::Router make_metrics_router(engine::Engine& engine, kernel::Kernel& kernel,
                                 const MonitorSampler& sampler, std::string host_name) {
  http::Router r;
  r.add("GET", "/metrics", [&engine, &kernel, &sampler, host_name](const http::Request&) {
    http::Response out;
    out.content_type = "text/plain; version=0.0.4; charset=utf-8";
    out.body = render_metrics(*engine.snapshot(), kernel, sampler.values(), sampler.read_failures(),
                              host_name);
    return out;
  });
  return r;
}

}  // namespace l3afd::api
