#include "engine/state.h"

#include <algorithm>

namespace l3afd::engine {

bool AppliedState::uses_package(const std::string& name, const std::string& version) const {
  auto runs = [&](const ProgramRecord& r) {
    return r.spec.name == name && r.spec.version == version;
  };
  for (const auto& [iface, rec] : ifaces) {
    for (const auto& [h, progs] : rec.hooks) {
      if (std::any_of(progs.begin(), progs.end(), runs)) return true;
    }
    for (const auto& [h, root] : rec.roots) {
      if (runs(root)) return true;
    }
  }
  return std::any_of(probes.begin(), probes.end(), [&](const ProbeRecord& r) {
    return r.spec.name == name && r.spec.version == version;
  });
}

const std::vector<ProgramRecord>* AppliedState::programs(const std::string& iface,
                                                         model::Hook h) const {
  auto it = ifaces.find(iface);
  if (it == ifaces.end()) return nullptr;
  auto hit = it->second.hooks.find(h);
  if (hit == it->second.hooks.end() || hit->second.empty()) return nullptr;
  return &hit->second;
}

namespace {
std::optional<std::vector<model::BpfProgram>> list_of(const AppliedState& s,
                                                      const std::string& iface, model::Hook h) {
  const auto* progs = s.programs(iface, h);
  if (progs == nullptr) return std::nullopt;
  std::vector<model::BpfProgram> out;
  out.reserve(progs->size());
  for (const auto& r : *progs) out.push_back(r.spec);
  return out;
}
}  // namespace

model::L3afBpfPrograms view_of(const AppliedState& s, const std::string& host_name,
                               const std::string& iface) {
  model::L3afBpfPrograms v;
  v.host_name = host_name;
  v.iface = iface;
  auto it = s.ifaces.find(iface);
  if (it != s.ifaces.end()) v.ipv4_address = it->second.ipv4_address;
  model::BpfPrograms p;
  p.xdp_ingress = list_of(s, iface, model::Hook::XdpIngress);
  p.tc_ingress = list_of(s, iface, model::Hook::TcIngress);
  p.tc_egress = list_of(s, iface, model::Hook::TcEgress);
  if (it != s.ifaces.end() && !s.probes.empty()) {
    p.probes.emplace();
    for (const auto& r : s.probes) p.probes->push_back(r.spec);
  }
  v.bpf_programs = std::move(p);
  return v;
}

std::vector<model::L3afBpfPrograms> view_all(const AppliedState& s, const std::string& host_name) {
  std::vector<model::L3afBpfPrograms> out;
  out.reserve(s.ifaces.size());
  for (const auto& [name, rec] : s.ifaces) out.push_back(view_of(s, host_name, name));
  return out;
}

}  // namespace l3afd::engine
