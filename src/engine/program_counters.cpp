#include "engine/program_counters.h"

#include <set>

namespace l3afd::engine {

namespace {

std::string ipv4_of(const AppliedState& s, const std::string& iface) {
  auto it = s.ifaces.find(iface);
  return it == s.ifaces.end() ? std::string() : it->second.ipv4_address;
}

/// Calls f(labels, object_key) for every program and root instance of `s`, and for every
/// attached probe program (labels named by probe_metric_name, key of its probe record).
template <class F>
void each_instance(const AppliedState& s, F&& f) {
  for (const auto& [iface, rec] : s.ifaces) {
    for (const auto& [h, list] : rec.hooks) {
      for (const auto& r : list) {
        f(CounterLabels{r.spec.name, std::string(model::direction(h)), iface, rec.ipv4_address},
          r.object_key);
      }
    }
    for (const auto& [h, root] : rec.roots) {
      f(CounterLabels{root.spec.name, std::string(model::direction(h)), iface, rec.ipv4_address},
        root.object_key);
    }
  }
  for (const auto& p : s.probes) {
    for (const auto& a : p.attached) {
      f(CounterLabels{probe_metric_name(p.spec.name, a.section.section), "", "", ""}, p.object_key);
    }
  }
}

}  // namespace

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

void count_starts(ProgramCounters& c, const AppliedState& next,
                  const std::vector<Plan::Fill>& fills,
                  const std::vector<Plan::ProbeFill>& probe_fills, std::int64_t now) {
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
    const CounterLabels l{r->spec.name, std::string(model::direction(f.hook)), f.iface,
                          it->second.ipv4_address};
    ++c.start[l];
    c.start_time[l] = now;
  }
  for (const auto& f : probe_fills) {
    if (f.index >= next.probes.size()) continue;
    const ProbeRecord& r = next.probes[f.index];
    for (const auto& a : r.attached) {
      const CounterLabels l{probe_metric_name(r.spec.name, a.section.section), "", "", ""};
      ++c.start[l];
      c.start_time[l] = now;
    }
  }
}

void count_stops(ProgramCounters& c, const AppliedState& before, const AppliedState& after) {
  std::set<std::string> live;
  each_instance(after, [&](const CounterLabels&, const std::string& key) { live.insert(key); });
  std::set<CounterLabels> still_running;
  each_instance(after,
                [&](const CounterLabels& l, const std::string&) { still_running.insert(l); });
  each_instance(before, [&](const CounterLabels& l, const std::string& key) {
    if (key.empty() || live.contains(key)) return;
    ++c.stop[l];
    // A replacement under the same labels (an upgrade) started again: its start time stays.
    if (!still_running.contains(l)) c.start_time.erase(l);
  });
}

void count_updates(ProgramCounters& c, const std::vector<Step>& steps, const AppliedState& next) {
  for (const auto& st : steps) {
    const auto* maps = std::get_if<ConfigureMaps>(&st.forward);
    const bool writes_args = maps != nullptr && !maps->map_args.empty();
    if (!writes_args && !std::holds_alternative<UpdateCompanion>(st.forward)) continue;
    ++c.update[CounterLabels{st.subject.program, st.subject.direction, st.subject.iface,
                             ipv4_of(next, st.subject.iface)}];
  }
}

void count_failure(ProgramCounters& c, const Error& e, const AppliedState& s) {
  if (e.step.rfind("update companion", 0) == 0) {
    for (const auto& i : e.items) {
      ++c.update_failed[CounterLabels{i.program, i.direction, i.iface, ipv4_of(s, i.iface)}];
    }
  }
  std::set<CounterLabels> seen;
  for (const auto& i : e.items) {
    CounterLabels l{i.program, i.direction == "xdpingress" ? "xdp" : i.direction, i.iface,
                    ipv4_of(s, i.iface)};
    if (i.program.empty()) l.direction.clear();
    if (seen.insert(l).second) ++c.deploy_failed[l];
  }
  if (e.items.empty()) ++c.deploy_failed[CounterLabels{}];
}

}  // namespace l3afd::engine
