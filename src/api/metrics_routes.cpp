#include "api/metrics_routes.h"

#include <map>

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
                           const std::string& host_name) {
  std::string running, monitor;
  for (const auto& [iface, rec] : snap.state.ifaces) {
    for (const auto& [hook, progs] : rec.hooks) {
      for (const auto& p : progs) {
        const std::string dir(model::direction(hook));
        // 0 while the program's supervised companion is down (docs/compatibility.md §15).
        bool up = true;
        if (auto c = snap.companions.find(engine::companion_id(iface, hook, p.spec));
            c != snap.companions.end()) {
          up = c->second.running;
        }
        running += "l3afd_BPFRunning" +
                   labels({{"direction", dir},
                           {"ebpf_program", p.spec.name},
                           {"host", host_name},
                           {"interface_name", iface},
                           {"ipv4_address", rec.ipv4_address},
                           {"version", p.spec.version}}) +
                   (up ? " 1\n" : " 0\n");
        for (const auto& m : p.spec.monitor_maps.value_or(std::vector<model::MonitorMap>{})) {
          if (m.aggregator != "scalar") continue;
          auto v = kernel.read_map_value(p.object_key, m.name, static_cast<uint64_t>(m.key));
          if (!v) continue;  // a failed read is skipped, never published as 0
          monitor +=
              "l3afd_BPFMonitorMap" +
              labels({{"ebpf_program", p.spec.name},
                      {"host", host_name},
                      {"interface_name", iface},
                      {"ipv4_address", rec.ipv4_address},
                      {"map_name", m.name + "_" + std::to_string(m.key) + "_" + m.aggregator}}) +
              " " + std::to_string(*v) + "\n";
        }
      }
    }
  }
  std::string starts;
  for (const auto& [l, n] : snap.start_counts) {
    starts += "l3afd_BPFStartCount" +
              labels({{"direction", l.direction},
                      {"ebpf_program", l.ebpf_program},
                      {"host", host_name},
                      {"interface_name", l.interface_name},
                      {"ipv4_address", l.ipv4_address}}) +
              " " + std::to_string(n) + "\n";
  }
  std::string out;
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
  // Families in name order, as the Go client prints them.
  if (!starts.empty()) {
    out +=
        "# HELP l3afd_BPFStartCount The count of BPF program started\n"
        "# TYPE l3afd_BPFStartCount counter\n" +
        starts;
  }
  return out;
}

http::Router make_metrics_router(engine::Engine& engine, kernel::Kernel& kernel,
                                 std::string host_name) {
  http::Router r;
  r.add("GET", "/metrics", [&engine, &kernel, host_name](const http::Request&) {
    http::Response out;
    out.content_type = "text/plain; version=0.0.4; charset=utf-8";
    out.body = render_metrics(*engine.snapshot(), kernel, host_name);
    return out;
  });
  return r;
}

}  // namespace l3afd::api
