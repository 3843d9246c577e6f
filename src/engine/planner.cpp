#include "engine/planner.h"

#include <algorithm>

#include <set>

#include "engine/hook_strategy.h"
#include "engine/plan_builder.h"

namespace l3afd::engine {

using model::Hook;

const RootDef& PlannerConfig::root(Hook h) const {
  switch (h) {
    case Hook::XdpIngress: return xdp_root;
    case Hook::TcIngress: return tc_ingress_root;
    case Hook::TcEgress: return tc_egress_root;
  }
  return xdp_root;
}

namespace {

void complete_record(ProgramRecord& rec, const Plan::Fill& f, const std::vector<Output>& outputs) {
  if (f.fetch) {
    if (const auto* p = output_at(outputs, *f.fetch)) rec.package_dir = p->dir;
  }
  if (f.load) {
    if (const auto* o = output_at(outputs, *f.load)) {
      rec.prog_id = o->prog_id;
      rec.maps = o->maps;
      // The private next array is pinned at MapNamePath after the flip (docs/chain-protocol.md
      // §4.2).
      for (auto& m : rec.maps) {
        if (m.pin.empty() && !rec.spec.map_name.empty() && m.name == rec.spec.map_name) {
          m.pin = rec.paths.map_name_path;
        }
      }
    }
  }
  if (f.attach) {
    if (const auto* a = output_at(outputs, *f.attach)) rec.attach = *a;
  }
}

/// Programs (name, version) of the desired state: their packages stay.
std::set<std::pair<std::string, std::string>> used_programs(const DesiredState& d) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& [iface, di] : d.ifaces) {
    for (const auto& [h, list] : di.hooks) {
      for (const auto& p : list) out.insert({p.name, p.version});
    }
  }
  for (const auto& p : d.probes) out.insert({p.name, p.version});
  return out;
}

HookChange hook_change(const std::string& iface, Hook h, const InterfaceRecord* cur,
                       const DesiredInterface* want) {
  HookChange c{.iface = iface, .hook = h};
  if (cur != nullptr) {
    if (auto it = cur->hooks.find(h); it != cur->hooks.end()) c.old = it->second;
    if (auto it = cur->roots.find(h); it != cur->roots.end()) c.old_root = it->second;
  }
  if (want != nullptr) {
    if (auto it = want->hooks.find(h); it != want->hooks.end()) c.want = it->second;
  }
  return c;
}

}  // namespace

AppliedState complete(Plan&& plan, const std::vector<Output>& outputs) {
  AppliedState next = std::move(plan.next);
  for (const auto& f : plan.probe_fills) {
    ProbeRecord& r = next.probes.at(f.index);
    if (const auto* p = output_at(outputs, f.fetch)) r.package_dir = p->dir;
    if (const auto* o = output_at(outputs, f.load)) {
      r.attached = o->probes;
      r.maps = o->maps;
    }
  }
  for (const auto& f : plan.fills) {
    auto& iface = next.ifaces.at(f.iface);
    complete_record(f.root ? iface.roots.at(f.hook) : iface.hooks.at(f.hook).at(f.index), f,
                    outputs);
  }
  return next;
}

Result<Plan> Planner::add(const AppliedState& s, const model::ValidPrograms& req,
                          const PlanOptions& opts) const {
  auto d = with_added(desired_from(s), req, cfg_.chaining);
  if (!d) return fail(std::move(d.error()));
  return transition(s, *d, opts);
}

Result<Plan> Planner::update(const AppliedState& s, const model::ValidPrograms& req,
                             const PlanOptions& opts) const {
  std::vector<model::BpfProgram> probes_now;
  for (const auto& r : s.probes) probes_now.push_back(r.spec);
  auto d = from_update(req, cfg_.chaining, std::move(probes_now));
  if (!d) return fail(std::move(d.error()));
  return transition(s, *d, opts);
}

Result<Plan> Planner::remove(const AppliedState& s, const model::ValidNames& req,
                             const PlanOptions& opts) const {
  auto d = without(desired_from(s), req, cfg_.chaining);
  if (!d) return fail(std::move(d.error()));
  return transition(s, *d, opts);
}

Result<bool> Planner::plan_interface(PlanBuilder& b, const std::string& iface,
                                     const InterfaceRecord* cur,
                                     const DesiredInterface* want) const {
  bool changed = cur == nullptr || want == nullptr || cur->ipv4_address != want->ipv4_address;
  InterfaceRecord out;
  if (want != nullptr) out.ipv4_address = want->ipv4_address;
  for (Hook h : model::kAllHooks) {
    const HookChange c = hook_change(iface, h, cur, want);
    if (c.old.empty() && c.want.empty() && !c.old_root) continue;
    auto r = strategy_for(cfg_, c).plan(b, c);
    if (!r) return fail(std::move(r.error()));
    changed = changed || r->changed;
    if (!r->records.empty()) out.hooks[h] = std::move(r->records);
    if (r->root) out.roots[h] = std::move(*r->root);
  }
  if (want != nullptr) b.plan().next.ifaces[iface] = std::move(out);
  return changed;
}

Result<bool> Planner::plan_probes(PlanBuilder& b, const std::vector<ProbeRecord>& cur,
                                  const std::vector<model::BpfProgram>& want) const {
  bool changed = false;
  Plan& plan = b.plan();
  for (const auto& p : want) {
    auto old = std::find_if(cur.begin(), cur.end(),
                            [&](const ProbeRecord& r) { return r.spec.name == p.name; });
    if (old != cur.end() && old->spec == p && !b.must_rebuild(old->object_key)) {
      plan.next.probes.push_back(*old);
      continue;
    }
    changed = true;
    auto paths = cfg_.layout.probe(p.name, p.version);
    if (!paths) return fail(std::move(paths.error()));
    ProbeRecord rec;
    rec.spec = p;
    rec.paths = *paths;
    rec.object_key = "probes/" + p.name + "/" + layout::version_dir(p.version) + "#" +
                     std::to_string(plan.next.next_instance++);
    const ErrorItem subj{.program = p.name};
    const auto package = plan.append("fetch package " + p.name + "@" + p.version,
                                     FetchPackage{package_of(p, cfg_.default_repo_url)}, subj);
    kernel::ProbeSpec spec{.key = rec.object_key,
                           .object_file = p.object_file,
                           .map_pin_dir = paths->map_dir,
                           .link_dir = paths->link_dir};
    const auto load = plan.append("load probes of " + p.name, LoadProbes{spec, package}, subj);
    const auto args = p.map_args.value_or(std::vector<model::MapArg>{});
    const auto mons = p.monitor_maps.value_or(std::vector<model::MonitorMap>{});
    if (!args.empty() || !mons.empty()) {
      plan.append("write maps of " + p.name,
                  ConfigureMaps{rec.object_key, args, mons, std::nullopt}, subj);
    }
    plan.probe_fills.push_back({plan.next.probes.size(), package, load});
    plan.next.probes.push_back(std::move(rec));
    if (old != cur.end()) b.release_probe(*old);
  }
  for (const auto& r : cur) {
    if (std::none_of(want.begin(), want.end(),
                     [&](const model::BpfProgram& p) { return p.name == r.spec.name; })) {
      changed = true;
      b.release_probe(r);
    }
  }
  return changed;
}

Result<Plan> Planner::transition(const AppliedState& s, const DesiredState& d,
                                 const PlanOptions& opts) const {
  Plan plan;
  plan.next.revision = s.revision;
  plan.next.next_instance = s.next_instance;
  PlanBuilder b(cfg_, plan, opts.adopt, opts.rebuild);
  b.used_after = used_programs(d);
  for (const auto& [iface, rec] : s.ifaces) {
    for (const auto& [h, list] : rec.hooks) {
      for (const auto& r : list) b.before[companion_id(iface, h, r.spec)] = r;
    }
  }
  for (const auto& [iface, di] : d.ifaces) {
    for (const auto& [h, list] : di.hooks) {
      for (const auto& p : list) b.after[companion_id(iface, h, p)] = p;
    }
  }

  std::set<std::string> all_ifaces;
  for (const auto& [n, r] : s.ifaces) all_ifaces.insert(n);
  for (const auto& [n, r] : d.ifaces) all_ifaces.insert(n);
  for (const auto& iface : all_ifaces) {
    auto sit = s.ifaces.find(iface);
    auto dit = d.ifaces.find(iface);
    auto changed = plan_interface(b, iface, sit == s.ifaces.end() ? nullptr : &sit->second,
                                  dit == d.ifaces.end() ? nullptr : &dit->second);
    if (!changed) return fail(std::move(changed.error()));
    plan.changed = plan.changed || *changed;
  }
  auto probes_changed = plan_probes(b, s.probes, d.probes);
  if (!probes_changed) return fail(std::move(probes_changed.error()));
  plan.changed = plan.changed || *probes_changed;

  if (!plan.changed) {
    plan.next.next_instance = s.next_instance;
    return plan;
  }
  plan.next.revision = s.revision + 1;
  if (opts.commit) {
    auto contents = view_all(plan.next, cfg_.host_name);
    contents.insert(contents.end(), opts.extra_store_entries.begin(),
                    opts.extra_store_entries.end());
    plan.append("commit state", CommitState{std::move(contents)});
  }
  return plan;
}

}  // namespace l3afd::engine
