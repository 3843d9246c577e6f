#include "engine/planner.h"

#include <map>
#include <optional>
#include <set>

namespace l3afd::engine {

using model::BpfProgram;
using model::Hook;

/// The requested end state, as specs: the interface table and at most one program per hook.
struct Planner::Target {
  struct Iface {
    std::string ipv4_address;
    std::map<Hook, BpfProgram> hooks;
  };
  std::map<std::string, Iface> ifaces;
};

namespace {

const std::optional<std::vector<BpfProgram>>& hook_list(const model::BpfPrograms& p, Hook h) {
  switch (h) {
    case Hook::XdpIngress: return p.xdp_ingress;
    case Hook::TcIngress: return p.tc_ingress;
    case Hook::TcEgress: return p.tc_egress;
  }
  return p.xdp_ingress;
}

const std::optional<std::vector<std::string>>& name_list(const model::BpfProgramNames& p, Hook h) {
  switch (h) {
    case Hook::XdpIngress: return p.xdp_ingress;
    case Hook::TcIngress: return p.tc_ingress;
    case Hook::TcEgress: return p.tc_egress;
  }
  return p.xdp_ingress;
}

std::string pointer(std::size_t entry, Hook h, std::size_t i, const char* field = nullptr) {
  std::string p = "/" + std::to_string(entry) + "/bpf_programs/" + std::string(model::json_key(h)) +
                  "/" + std::to_string(i);
  if (field != nullptr) p += std::string("/") + field;
  return p;
}

/// Features this build does not run yet are refused up front, with the field named, rather
/// than accepted and silently not done.
void check_supported(const model::L3afBpfPrograms& e, std::size_t idx, std::vector<ErrorItem>& out) {
  if (!e.bpf_programs) return;
  if (e.bpf_programs->probes && !e.bpf_programs->probes->empty()) {
    out.push_back({e.iface, "", "", "/" + std::to_string(idx) + "/bpf_programs/probes",
                   "probes are not supported by this version of l3afd"});
  }
  for (Hook h : model::kAllHooks) {
    const auto& list = hook_list(*e.bpf_programs, h);
    if (!list) continue;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto& p = (*list)[i];
      if (p.admin_status != "enabled") continue;
      const std::string dir(model::direction(h));
      if (!p.cmd_start.empty()) {
        out.push_back({e.iface, dir, p.name, pointer(idx, h, i, "cmd_start"),
                       "user programs (cmd_start) are not supported by this version of l3afd"});
      }
      if (p.object_file.empty()) {
        out.push_back({e.iface, dir, p.name, pointer(idx, h, i, "object_file"),
                       "object_file is required: this version of l3afd loads every program itself"});
      }
    }
  }
}

/// The enabled programs of one hook of a request entry; more than one is a conflict without
/// chaining (l3af-compat.md §6.2).
std::optional<BpfProgram> single_enabled(const model::L3afBpfPrograms& e, std::size_t idx, Hook h,
                                         std::vector<ErrorItem>& conflicts) {
  if (!e.bpf_programs) return std::nullopt;
  const auto& list = hook_list(*e.bpf_programs, h);
  if (!list) return std::nullopt;
  std::optional<BpfProgram> found;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto& p = (*list)[i];
    if (p.admin_status != "enabled") continue;
    if (found) {
      conflicts.push_back({e.iface, std::string(model::direction(h)), p.name, pointer(idx, h, i),
                           "failed to add multiple programs because chaining is disabled"});
      continue;
    }
    found = p;
  }
  return found;
}

/// Only these fields change in place; any other difference restarts the program (D3).
bool differs_only_in_place(const BpfProgram& a, const BpfProgram& b) {
  BpfProgram x = a;
  x.map_args = b.map_args;
  x.monitor_maps = b.monitor_maps;
  x.cfg_version = b.cfg_version;
  return x == b;
}

PackageRef package_of(const BpfProgram& p, const std::string& default_repo) {
  return PackageRef{p.ebpf_package_repo_url.empty() ? default_repo : p.ebpf_package_repo_url,
                    p.name, p.version, p.artifact};
}

Status conflict(std::vector<ErrorItem> items) {
  Error e{Errc::Conflict, 0, items.front().message, {}, std::move(items), {}};
  if (e.items.size() > 1) e.message += " (and " + std::to_string(e.items.size() - 1) + " more)";
  return tl::unexpected<Error>(std::move(e));
}

Status unsupported(std::vector<ErrorItem> items) {
  Error e{Errc::InvalidPayload, 0, items.front().message, {}, std::move(items), {}};
  return tl::unexpected<Error>(std::move(e));
}

}  // namespace

AppliedState complete(Plan&& plan, const std::vector<Output>& outputs) {
  AppliedState next = std::move(plan.next);
  for (const auto& f : plan.fills) {
    auto& rec = next.ifaces.at(f.iface).hooks.at(f.hook).at(f.index);
    if (f.fetch_step < outputs.size()) {
      if (const auto* p = std::get_if<Package>(&outputs[f.fetch_step])) rec.package_dir = p->dir;
    }
    if (f.load_step < outputs.size()) {
      if (const auto* o = std::get_if<kernel::LoadedObject>(&outputs[f.load_step])) {
        rec.prog_id = o->prog_id;
        rec.maps = o->maps;
      }
    }
    if (f.attach_step < outputs.size()) {
      if (const auto* a = std::get_if<kernel::AttachInfo>(&outputs[f.attach_step])) rec.attach = *a;
    }
  }
  return next;
}

Result<Plan> Planner::add(const AppliedState& s, const std::vector<model::L3afBpfPrograms>& req,
                          const PinnedLinks* adopt) const {
  Target t;
  for (const auto& [name, rec] : s.ifaces) {
    auto& ti = t.ifaces[name];
    ti.ipv4_address = rec.ipv4_address;
    for (const auto& [h, progs] : rec.hooks) {
      if (!progs.empty()) ti.hooks[h] = progs.front().spec;
    }
  }
  std::vector<ErrorItem> unsupported_items;
  std::vector<ErrorItem> conflicts;
  for (std::size_t idx = 0; idx < req.size(); ++idx) {
    const auto& e = req[idx];
    check_supported(e, idx, unsupported_items);
    auto& ti = t.ifaces[e.iface];
    ti.ipv4_address = e.ipv4_address;  // add merges the interface table (D1)
    for (Hook h : model::kAllHooks) {
      auto p = single_enabled(e, idx, h, conflicts);
      if (!p) continue;
      auto it = ti.hooks.find(h);
      if (it == ti.hooks.end()) {
        ti.hooks[h] = *p;
      } else if (!(it->second == *p)) {
        conflicts.push_back({e.iface, std::string(model::direction(h)), p->name, "",
                             "failed to add " + p->name + " due to existing program " +
                                 it->second.name + " on iface " + e.iface + " direction " +
                                 std::string(model::direction(h))});
      }
    }
  }
  if (!unsupported_items.empty()) return fail(unsupported(std::move(unsupported_items)).error());
  if (!conflicts.empty()) return fail(conflict(std::move(conflicts)).error());
  return transition(s, t, adopt);
}

Result<Plan> Planner::update(const AppliedState& s,
                             const std::vector<model::L3afBpfPrograms>& req) const {
  Target t;
  std::vector<ErrorItem> unsupported_items;
  std::vector<ErrorItem> conflicts;
  for (std::size_t idx = 0; idx < req.size(); ++idx) {
    const auto& e = req[idx];
    check_supported(e, idx, unsupported_items);
    auto& ti = t.ifaces[e.iface];  // a repeated interface: the later entry wins per hook
    ti.ipv4_address = e.ipv4_address;
    for (Hook h : model::kAllHooks) {
      auto p = single_enabled(e, idx, h, conflicts);
      if (p) {
        ti.hooks[h] = *p;
      } else if (e.bpf_programs) {
        ti.hooks.erase(h);
      }
    }
  }
  if (!unsupported_items.empty()) return fail(unsupported(std::move(unsupported_items)).error());
  if (!conflicts.empty()) return fail(conflict(std::move(conflicts)).error());
  return transition(s, t);
}

Result<Plan> Planner::remove(const AppliedState& s,
                             const std::vector<model::L3afBpfProgramNames>& req) const {
  Target t;
  for (const auto& [name, rec] : s.ifaces) {
    auto& ti = t.ifaces[name];
    ti.ipv4_address = rec.ipv4_address;
    for (const auto& [h, progs] : rec.hooks) {
      if (!progs.empty()) ti.hooks[h] = progs.front().spec;
    }
  }
  for (const auto& e : req) {
    auto it = t.ifaces.find(e.iface);
    if (it == t.ifaces.end() || !e.bpf_programs) continue;  // idempotent: nothing to delete
    for (Hook h : model::kAllHooks) {
      const auto& names = name_list(*e.bpf_programs, h);
      if (!names) continue;
      auto hit = it->second.hooks.find(h);
      if (hit == it->second.hooks.end()) continue;
      for (const auto& n : *names) {
        if (hit->second.name == n) {
          it->second.hooks.erase(hit);
          break;
        }
      }
    }
  }
  return transition(s, t);
}

Result<Plan> Planner::transition(const AppliedState& s, const Target& t,
                                 const PinnedLinks* adopt) const {
  Plan plan;
  plan.next.revision = s.revision;
  plan.next.next_instance = s.next_instance;
  bool changed = false;

  // Packages still used by some program after the change are never removed.
  std::set<std::pair<std::string, std::string>> used_after;
  for (const auto& [iface, ti] : t.ifaces) {
    for (const auto& [h, p] : ti.hooks) used_after.insert({p.name, p.version});
  }
  std::set<std::pair<std::string, std::string>> released_packages;
  auto release_program = [&](const ProgramRecord& r) {
    plan.release.push_back({"unload " + r.spec.name + " from " + r.object_key,
                            UnloadObject{r.object_key}});
    auto nv = std::make_pair(r.spec.name, r.spec.version);
    if (!used_after.contains(nv) && released_packages.insert(nv).second) {
      plan.release.push_back({"remove package " + r.spec.name + "@" + r.spec.version,
                              RemovePackage{package_of(r.spec, cfg_.default_repo_url)}});
    }
  };

  auto attach_spec = [&](const std::string& key, const std::string& iface, Hook h,
                         const layout::ProgramPaths& paths) {
    kernel::AttachSpec a;
    a.key = key;
    a.iface = iface;
    a.hook = h;
    a.link_pin_path = paths.link_pin;
    a.tc_mode = cfg_.tc_mode;
    return a;
  };

  // Build a new instance of `p` on iface/hook; returns the record and registers a fill.
  auto build = [&](const std::string& iface, Hook h, const BpfProgram& p,
                   const ProgramRecord* replacing) -> Result<ProgramRecord> {
    auto paths = cfg_.layout.program(iface, h, p.name, p.version, p.entry_function_name, p.map_name);
    if (!paths) return fail(std::move(paths.error()));
    ProgramRecord rec;
    rec.spec = p;
    rec.paths = *paths;
    rec.object_key = iface + "/" + std::string(model::direction(h)) + "/" + p.name + "/" +
                     layout::version_dir(p.version) + "#" + std::to_string(plan.next.next_instance++);
    const std::string where = " on " + iface + " " + std::string(model::direction(h));
    const ErrorItem subject{iface, std::string(model::direction(h)), p.name, "", ""};

    Plan::Fill fill{iface, h, 0, 0, 0, 0};
    fill.fetch_step = plan.steps.size();
    plan.steps.push_back({"fetch package " + p.name + "@" + p.version,
                          FetchPackage{package_of(p, cfg_.default_repo_url)}, subject});
    kernel::LoadSpec ls;
    ls.key = rec.object_key;
    ls.object_file = p.object_file;
    ls.entry_function = p.entry_function_name;
    ls.hook = h;
    ls.map_pin_dir = paths->map_dir;
    ls.prog_pin_path = paths->prog_pin;
    fill.load_step = plan.steps.size();
    plan.steps.push_back({"load " + p.name + where, LoadObject{ls, fill.fetch_step}, subject});
    std::vector<model::MapArg> args = p.map_args.value_or(std::vector<model::MapArg>{});
    std::vector<model::MonitorMap> mons = p.monitor_maps.value_or(std::vector<model::MonitorMap>{});
    if (!args.empty() || !mons.empty()) {
      plan.steps.push_back({"write maps of " + p.name + where,
                            ConfigureMaps{rec.object_key, args, mons, std::nullopt}, subject});
    }
    Attach at{attach_spec(rec.object_key, iface, h, rec.paths), std::nullopt};
    if (replacing != nullptr) {
      // Make-before-break: switch the existing attachment to the new program in one step.
      at.spec.replace_link_pin = replacing->paths.link_pin;
      at.previous = attach_spec(replacing->object_key, iface, h, replacing->paths);
    } else {
      // A link left pinned by a previous run (crash) is taken over instead of failing: the one
      // found on this hook at start (possibly of another version), else our own path.
      at.spec.replace_link_pin = rec.paths.link_pin;
      if (adopt != nullptr) {
        if (auto it = adopt->find({iface, h}); it != adopt->end()) at.spec.replace_link_pin = it->second;
      }
    }
    fill.attach_step = plan.steps.size();
    plan.steps.push_back({(replacing ? "switch " : "attach ") + p.name + where, at, subject});
    plan.fills.push_back(fill);
    return rec;
  };

  std::set<std::string> all_ifaces;
  for (const auto& [n, r] : s.ifaces) all_ifaces.insert(n);
  for (const auto& [n, r] : t.ifaces) all_ifaces.insert(n);

  for (const auto& iface : all_ifaces) {
    auto sit = s.ifaces.find(iface);
    auto tit = t.ifaces.find(iface);
    const InterfaceRecord* cur = sit == s.ifaces.end() ? nullptr : &sit->second;
    const Target::Iface* want = tit == t.ifaces.end() ? nullptr : &tit->second;
    InterfaceRecord out;
    if (want != nullptr) out.ipv4_address = want->ipv4_address;
    if (cur == nullptr || want == nullptr || cur->ipv4_address != want->ipv4_address) changed = true;

    for (Hook h : model::kAllHooks) {
      const ProgramRecord* old = nullptr;
      if (cur != nullptr) {
        auto it = cur->hooks.find(h);
        if (it != cur->hooks.end() && !it->second.empty()) old = &it->second.front();
      }
      const BpfProgram* neu = nullptr;
      if (want != nullptr) {
        auto it = want->hooks.find(h);
        if (it != want->hooks.end()) neu = &it->second;
      }
      const std::string where = " on " + iface + " " + std::string(model::direction(h));
      if (old == nullptr && neu == nullptr) continue;
      if (old != nullptr && neu == nullptr) {
        plan.steps.push_back({"detach " + old->spec.name + where,
                              Detach{old->object_key, attach_spec(old->object_key, iface, h, old->paths)}});
        release_program(*old);
        changed = true;
        continue;
      }
      if (old != nullptr && old->spec == *neu) {
        out.hooks[h].push_back(*old);
        continue;
      }
      changed = true;
      if (old != nullptr && differs_only_in_place(old->spec, *neu)) {
        ProgramRecord rec = *old;
        rec.spec = *neu;
        if (old->spec.map_args != neu->map_args || old->spec.monitor_maps != neu->monitor_maps) {
          plan.steps.push_back(
              {"write maps of " + neu->name + where,
               ConfigureMaps{old->object_key, neu->map_args.value_or(std::vector<model::MapArg>{}),
                             neu->monitor_maps.value_or(std::vector<model::MonitorMap>{}),
                             old->spec.map_args.value_or(std::vector<model::MapArg>{})},
               ErrorItem{iface, std::string(model::direction(h)), neu->name, "", ""}});
        }
        out.hooks[h].push_back(std::move(rec));
        continue;
      }
      auto rec = build(iface, h, *neu, old);
      if (!rec) return fail(std::move(rec.error()));
      plan.fills.back().index = 0;
      out.hooks[h].push_back(std::move(*rec));
      if (old != nullptr) release_program(*old);
    }
    if (want != nullptr) plan.next.ifaces[iface] = std::move(out);
  }

  if (changed) {
    plan.next.revision = s.revision + 1;
    plan.steps.push_back({"commit state", CommitState{view_all(plan.next, cfg_.host_name)}});
  } else {
    plan.next.next_instance = s.next_instance;
  }
  return plan;
}

}  // namespace l3afd::engine
