#include "engine/start_count.h"

namespace l3afd::engine {

std::string probe_metric_name(const std::string& name, const std::string& section) {
  std::vector<std::string> parts;
  std::size_t at = 0;
  while (at <= section.size() && parts.size() < 2) {
    const auto slash = section.find('/', at);
    const auto end = slash == std::string::npos ? section.size() : slash;
    if (end > at) parts.push_back(section.substr(at, end - at));
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  std::string out = name;
  for (const auto& p : parts) out += "_" + p;
  return out;
}

void count_starts(StartCounts& counts, const AppliedState& next,
                  const std::vector<Plan::Fill>& fills,
                  const std::vector<Plan::ProbeFill>& probe_fills) {
  for (const auto& f : fills) {
    auto it = next.ifaces.find(f.iface);
    if (it == next.ifaces.end()) continue;
    const ProgramRecord* r = nullptr;
    if (f.root) {
      if (auto rt = it->second.roots.find(f.hook); rt != it->second.roots.end()) r = &rt->second;
    } else if (auto h = it->second.hooks.find(f.hook);
               h != it->second.hooks.end() && f.index < h->second.size()) {
      r = &h->second[f.index];
    }
    if (r == nullptr) continue;
    ++counts[StartCountLabels{r->spec.name, std::string(model::direction(f.hook)), f.iface,
                              it->second.ipv4_address}];
  }
  for (const auto& f : probe_fills) {
    if (f.index >= next.probes.size()) continue;
    const ProbeRecord& r = next.probes[f.index];
    for (const auto& a : r.attached) {
      ++counts[StartCountLabels{probe_metric_name(r.spec.name, a.section.section), "", "", ""}];
    }
  }
}

}  // namespace l3afd::engine
