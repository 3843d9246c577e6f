#include "engine/planner.h"

#include <algorithm>

#include <map>
#include <optional>
#include <set>

#include "chain/planner.h"
#include "engine/plan_builder.h"

namespace l3afd::engine {

using model::BpfProgram;
using model::Hook;

/// The requested end state, as specs: the interface table and the enabled programs of each
/// hook (without chaining at most one; with chaining in seq_id order).
struct Planner::Target {
  struct Iface {
    std::string ipv4_address;
    std::map<Hook, std::vector<BpfProgram>> hooks;
  };
  std::map<std::string, Iface> ifaces;
};

const RootDef& PlannerConfig::root(Hook h) const {
  switch (h) {
    case Hook::XdpIngress: return xdp_root;
    case Hook::TcIngress: return tc_ingress_root;
    case Hook::TcEgress: return tc_egress_root;
  }
  return xdp_root;
}

namespace {

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
void check_supported(const model::L3afBpfPrograms& e, std::size_t idx,
                     std::vector<ErrorItem>& out) {
  if (!e.bpf_programs) return;
  if (e.bpf_programs->probes && !e.bpf_programs->probes->empty()) {
    out.push_back({e.iface, "", "", "/" + std::to_string(idx) + "/bpf_programs/probes",
                   "probes are not supported by this version of l3afd"});
  }
  for (Hook h : model::kAllHooks) {
    const auto& list = e.bpf_programs->of(h);
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
        out.push_back(
            {e.iface, dir, p.name, pointer(idx, h, i, "object_file"),
             "object_file is required: this version of l3afd loads every program itself"});
      }
    }
  }
}

/// The enabled programs of one hook of a request entry. Without chaining more than one is a
/// conflict (l3af-compat.md §6.2); with chaining they are returned in seq_id order (validation
/// has made seq_ids unique per hook).
std::vector<BpfProgram> enabled_programs(const model::L3afBpfPrograms& e, std::size_t idx, Hook h,
                                         bool chaining, std::vector<ErrorItem>& conflicts) {
  std::vector<BpfProgram> out;
  if (!e.bpf_programs) return out;
  const auto& list = e.bpf_programs->of(h);
  if (!list) return out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto& p = (*list)[i];
    if (p.admin_status != "enabled") continue;
    if (!chaining && !out.empty()) {
      conflicts.push_back({e.iface, std::string(model::direction(h)), p.name, pointer(idx, h, i),
                           "failed to add multiple programs because chaining is disabled"});
      continue;
    }
    out.push_back(p);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const BpfProgram& a, const BpfProgram& b) { return a.seq_id < b.seq_id; });
  return out;
}

Status conflict(std::vector<ErrorItem> items) {
  Error e{Errc::Conflict, 0, items.front().message, {}, std::move(items), {}};
  if (e.items.size() > 1) e.message += " (and " + std::to_string(e.items.size() - 1) + " more)";
  return tl::unexpected<Error>(std::move(e));
}

Status invalid(std::vector<ErrorItem> items) {
  Error e{Errc::InvalidPayload, 0, items.front().message, {}, std::move(items), {}};
  if (e.items.size() > 1) e.message += " (and " + std::to_string(e.items.size() - 1) + " more)";
  return tl::unexpected<Error>(std::move(e));
}

}  // namespace

bool differs_only_in_place(const BpfProgram& a, const BpfProgram& b, bool chaining) {
  BpfProgram x = a;
  x.map_args = b.map_args;
  x.monitor_maps = b.monitor_maps;
  x.cfg_version = b.cfg_version;
  if (chaining) x.seq_id = b.seq_id;
  return x == b;
}

std::string instance_key(const std::string& iface, Hook h, const BpfProgram& p, uint64_t n) {
  return iface + "/" + std::string(model::direction(h)) + "/" + p.name + "/" +
         layout::version_dir(p.version) + "#" + std::to_string(n);
}

PackageRef package_of(const BpfProgram& p, const std::string& default_repo) {
  return PackageRef{p.ebpf_package_repo_url.empty() ? default_repo : p.ebpf_package_repo_url,
                    p.name, p.version, p.artifact};
}

AppliedState complete(Plan&& plan, const std::vector<Output>& outputs) {
  AppliedState next = std::move(plan.next);
  for (const auto& f : plan.fills) {
    auto& iface = next.ifaces.at(f.iface);
    auto& rec = f.root ? iface.roots.at(f.hook) : iface.hooks.at(f.hook).at(f.index);
    if (f.fetch_step < outputs.size()) {
      if (const auto* p = std::get_if<Package>(&outputs[f.fetch_step])) rec.package_dir = p->dir;
    }
    if (f.load_step < outputs.size()) {
      if (const auto* o = std::get_if<kernel::LoadedObject>(&outputs[f.load_step])) {
        rec.prog_id = o->prog_id;
        rec.maps = o->maps;
        // The private next array is pinned at MapNamePath after the flip (chaining.md §4.2).
        for (auto& m : rec.maps) {
          if (m.pin.empty() && !rec.spec.map_name.empty() && m.name == rec.spec.map_name) {
            m.pin = rec.paths.map_name_path;
          }
        }
      }
    }
    if (f.attach_step < outputs.size()) {
      if (const auto* a = std::get_if<kernel::AttachInfo>(&outputs[f.attach_step])) rec.attach = *a;
    }
  }
  return next;
}

// ---- PlanBuilder ----------------------------------------------------------------------------

kernel::AttachSpec PlanBuilder::attach_spec(const std::string& key, const std::string& iface,
                                            Hook h, const layout::ProgramPaths& paths) const {
  kernel::AttachSpec a;
  a.key = key;
  a.iface = iface;
  a.hook = h;
  a.link_pin_path = paths.link_pin;
  a.tc_mode = cfg_.tc_mode;
  return a;
}

std::filesystem::path PlanBuilder::adoptable_link(const std::string& iface, Hook h,
                                                  const std::filesystem::path& own) const {
  if (adopt_ != nullptr) {
    if (auto it = adopt_->find({iface, h}); it != adopt_->end()) return it->second;
  }
  return own;
}

Result<ProgramRecord> PlanBuilder::build(const std::string& iface, Hook h, const BpfProgram& p,
                                         const std::string& private_map, Plan::Fill& fill,
                                         const std::optional<std::string>& carry_from) {
  auto paths = cfg_.layout.program(iface, h, p.name, p.version, p.entry_function_name, p.map_name);
  if (!paths) return fail(std::move(paths.error()));
  ProgramRecord rec;
  rec.spec = p;
  rec.paths = *paths;
  rec.object_key = instance_key(iface, h, p, plan_.next.next_instance++);
  const ErrorItem subj = subject(iface, h, p.name);

  fill = Plan::Fill{iface, h, 0, 0, 0, kNoStep, false};
  fill.fetch_step = plan_.steps.size();
  plan_.steps.push_back({"fetch package " + p.name + "@" + p.version,
                         FetchPackage{package_of(p, cfg_.default_repo_url)}, subj});
  kernel::LoadSpec ls;
  ls.key = rec.object_key;
  ls.object_file = p.object_file;
  ls.entry_function = p.entry_function_name;
  ls.hook = h;
  ls.map_pin_dir = paths->map_dir;
  ls.prog_pin_path = paths->prog_pin;
  ls.private_map = private_map;
  ls.companion_link_dir = paths->link_pin.parent_path();
  fill.load_step = plan_.steps.size();
  plan_.steps.push_back(
      {"load " + p.name + where(iface, h), LoadObject{ls, fill.fetch_step}, subj});
  if (carry_from) {
    plan_.steps.push_back({"carry state of " + p.name + " over to " + p.version + where(iface, h),
                           CarryMaps{*carry_from, rec.object_key}, subj});
  }
  std::vector<model::MapArg> args = p.map_args.value_or(std::vector<model::MapArg>{});
  std::vector<model::MonitorMap> mons = p.monitor_maps.value_or(std::vector<model::MonitorMap>{});
  if (!args.empty() || !mons.empty()) {
    plan_.steps.push_back({"write maps of " + p.name + where(iface, h),
                           ConfigureMaps{rec.object_key, args, mons, std::nullopt}, subj});
  }
  // After map_args: an iterator seeding state reads the configured keys (programs.md §4).
  plan_.steps.push_back({"seed " + p.name + where(iface, h), RunIterators{rec.object_key}, subj});
  return rec;
}

void PlanBuilder::release(const ProgramRecord& r) {
  plan_.release.push_back(
      {"unload " + r.spec.name + " from " + r.object_key, UnloadObject{r.object_key}});
  auto nv = std::make_pair(r.spec.name, r.spec.version);
  if (!used_after.contains(nv) && released_packages_.insert(nv).second) {
    plan_.release.push_back({"remove package " + r.spec.name + "@" + r.spec.version,
                             RemovePackage{package_of(r.spec, cfg_.default_repo_url)}});
  }
}

void PlanBuilder::release_root(const ProgramRecord& r) {
  plan_.release.push_back(
      {"unload root " + r.spec.name + " from " + r.object_key, UnloadObject{r.object_key}});
}

// ---- Planner --------------------------------------------------------------------------------

Result<Plan> Planner::add(const AppliedState& s, const std::vector<model::L3afBpfPrograms>& req,
                          const PinnedLinks* adopt) const {
  Target t;
  for (const auto& [name, rec] : s.ifaces) {
    auto& ti = t.ifaces[name];
    ti.ipv4_address = rec.ipv4_address;
    for (const auto& [h, progs] : rec.hooks) {
      for (const auto& r : progs) ti.hooks[h].push_back(r.spec);
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
      const std::string dir(model::direction(h));
      for (const auto& p : enabled_programs(e, idx, h, cfg_.chaining, conflicts)) {
        auto& list = ti.hooks[h];
        if (!cfg_.chaining) {
          if (list.empty()) {
            list.push_back(p);
          } else if (!(list.front() == p)) {
            conflicts.push_back({e.iface, dir, p.name, "",
                                 "failed to add " + p.name + " due to existing program " +
                                     list.front().name + " on iface " + e.iface + " direction " +
                                     dir});
          }
          continue;
        }
        // Chaining (§6.2, Ours): identical re-add is a no-op; same name with another
        // definition or a seq_id already used on the hook is a conflict; else insert in order.
        auto same = std::find_if(list.begin(), list.end(),
                                 [&](const BpfProgram& q) { return q.name == p.name; });
        if (same != list.end()) {
          if (!(*same == p)) {
            conflicts.push_back({e.iface, dir, p.name, "",
                                 "program " + p.name + " already runs on iface " + e.iface +
                                     " direction " + dir +
                                     " with another definition; use update to change it"});
          }
          continue;
        }
        auto seq = std::find_if(list.begin(), list.end(),
                                [&](const BpfProgram& q) { return q.seq_id == p.seq_id; });
        if (seq != list.end()) {
          conflicts.push_back({e.iface, dir, p.name, "seq_id",
                               "seq_id " + std::to_string(p.seq_id) + " is already used by " +
                                   seq->name + " on iface " + e.iface + " direction " + dir});
          continue;
        }
        auto pos = std::find_if(list.begin(), list.end(),
                                [&](const BpfProgram& q) { return q.seq_id > p.seq_id; });
        list.insert(pos, p);
      }
    }
  }
  if (!unsupported_items.empty()) return fail(invalid(std::move(unsupported_items)).error());
  if (!conflicts.empty()) return fail(conflict(std::move(conflicts)).error());
  if (auto c = check_chains(t); !c) return fail(std::move(c.error()));
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
      auto list = enabled_programs(e, idx, h, cfg_.chaining, conflicts);
      if (!list.empty()) {
        ti.hooks[h] = std::move(list);
      } else if (e.bpf_programs) {
        ti.hooks.erase(h);
      }
    }
  }
  if (!unsupported_items.empty()) return fail(invalid(std::move(unsupported_items)).error());
  if (!conflicts.empty()) return fail(conflict(std::move(conflicts)).error());
  if (auto c = check_chains(t); !c) return fail(std::move(c.error()));
  return transition(s, t);
}

Result<Plan> Planner::remove(const AppliedState& s,
                             const std::vector<model::L3afBpfProgramNames>& req) const {
  Target t;
  for (const auto& [name, rec] : s.ifaces) {
    auto& ti = t.ifaces[name];
    ti.ipv4_address = rec.ipv4_address;
    for (const auto& [h, progs] : rec.hooks) {
      for (const auto& r : progs) ti.hooks[h].push_back(r.spec);
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
      std::erase_if(hit->second, [&](const BpfProgram& p) {
        return std::find(names->begin(), names->end(), p.name) != names->end();
      });
      if (hit->second.empty()) it->second.hooks.erase(hit);
    }
  }
  if (auto c = check_chains(t); !c) return fail(std::move(c.error()));
  return transition(s, t);
}

Status Planner::check_chains(const Target& t) const {
  if (!cfg_.chaining) return ok();
  std::vector<ErrorItem> bad;
  for (const auto& [iface, ti] : t.ifaces) {
    for (const auto& [h, list] : ti.hooks) {
      const std::string dir(model::direction(h));
      if (auto st = chain::check_length(list.size()); !st) {
        bad.push_back({iface, dir, "", "", st.error().message});
        continue;
      }
      // A program without its own next array cannot continue a chain (§1.1): only last.
      for (std::size_t i = 0; i + 1 < list.size(); ++i) {
        if (!list[i].map_name.empty()) continue;
        bad.push_back({iface, dir, list[i].name, "map_name",
                       "program " + list[i].name +
                           " has no map_name, so it cannot pass packets "
                           "on to " +
                           list[i + 1].name +
                           "; only the last program of a chain may "
                           "omit map_name"});
      }
    }
  }
  if (bad.empty()) return ok();
  return invalid(std::move(bad));
}

Result<Plan> Planner::transition(const AppliedState& s, const Target& t,
                                 const PinnedLinks* adopt) const {
  Plan plan;
  plan.next.revision = s.revision;
  plan.next.next_instance = s.next_instance;
  PlanBuilder b(cfg_, plan, adopt);
  bool changed = false;

  for (const auto& [iface, ti] : t.ifaces) {
    for (const auto& [h, list] : ti.hooks) {
      for (const auto& p : list) b.used_after.insert({p.name, p.version});
    }
  }

  std::set<std::string> all_ifaces;
  for (const auto& [n, r] : s.ifaces) all_ifaces.insert(n);
  for (const auto& [n, r] : t.ifaces) all_ifaces.insert(n);

  static const std::vector<ProgramRecord> kNone;
  static const std::vector<BpfProgram> kNothing;
  for (const auto& iface : all_ifaces) {
    auto sit = s.ifaces.find(iface);
    auto tit = t.ifaces.find(iface);
    const InterfaceRecord* cur = sit == s.ifaces.end() ? nullptr : &sit->second;
    const Target::Iface* want = tit == t.ifaces.end() ? nullptr : &tit->second;
    InterfaceRecord out;
    if (want != nullptr) out.ipv4_address = want->ipv4_address;
    if (cur == nullptr || want == nullptr || cur->ipv4_address != want->ipv4_address)
      changed = true;

    for (Hook h : model::kAllHooks) {
      const std::vector<ProgramRecord>* old = &kNone;
      std::optional<ProgramRecord> old_root;
      if (cur != nullptr) {
        if (auto it = cur->hooks.find(h); it != cur->hooks.end()) old = &it->second;
        if (auto it = cur->roots.find(h); it != cur->roots.end()) old_root = it->second;
      }
      const std::vector<BpfProgram>* neu = &kNothing;
      if (want != nullptr) {
        if (auto it = want->hooks.find(h); it != want->hooks.end()) neu = &it->second;
      }
      if (old->empty() && neu->empty() && !old_root) continue;

      if (cfg_.chaining || old_root) {
        std::optional<ProgramRecord> root;
        auto recs = plan_chained_hook(b, iface, h, *old, old_root, *neu, root, changed);
        if (!recs) return fail(std::move(recs.error()));
        if (!recs->empty()) out.hooks[h] = std::move(*recs);
        if (root) out.roots[h] = std::move(*root);
        continue;
      }

      // Without chaining: at most one program, attached directly (chaining.md §4.10).
      const ProgramRecord* o = old->empty() ? nullptr : &old->front();
      const BpfProgram* n = neu->empty() ? nullptr : &neu->front();
      const std::string where = PlanBuilder::where(iface, h);
      if (o != nullptr && n == nullptr) {
        plan.steps.push_back(
            {"detach " + o->spec.name + where,
             Detach{o->object_key, b.attach_spec(o->object_key, iface, h, o->paths)}});
        b.release(*o);
        changed = true;
        continue;
      }
      if (o != nullptr && o->spec == *n) {
        out.hooks[h].push_back(*o);
        continue;
      }
      changed = true;
      if (o != nullptr && differs_only_in_place(o->spec, *n, false)) {
        ProgramRecord rec = *o;
        rec.spec = *n;
        if (o->spec.map_args != n->map_args || o->spec.monitor_maps != n->monitor_maps) {
          plan.steps.push_back(
              {"write maps of " + n->name + where,
               ConfigureMaps{o->object_key, n->map_args.value_or(std::vector<model::MapArg>{}),
                             n->monitor_maps.value_or(std::vector<model::MonitorMap>{}),
                             o->spec.map_args.value_or(std::vector<model::MapArg>{})},
               PlanBuilder::subject(iface, h, n->name)});
          plan.steps.push_back({"seed " + n->name + where, RunIterators{o->object_key},
                                PlanBuilder::subject(iface, h, n->name)});
        }
        out.hooks[h].push_back(std::move(rec));
        continue;
      }
      Plan::Fill fill;
      std::optional<std::string> carry;
      if (o != nullptr && o->spec.version != n->version) carry = o->object_key;
      auto rec = b.build(iface, h, *n, "", fill, carry);
      if (!rec) return fail(std::move(rec.error()));
      Attach at{b.attach_spec(rec->object_key, iface, h, rec->paths), std::nullopt};
      if (o != nullptr) {
        // Make-before-break: switch the existing attachment to the new program in one step.
        at.spec.replace_link_pin = o->paths.link_pin;
        at.previous = b.attach_spec(o->object_key, iface, h, o->paths);
      } else {
        // A link left pinned by a previous run (crash) is taken over instead of failing.
        at.spec.replace_link_pin = b.adoptable_link(iface, h, rec->paths.link_pin);
      }
      fill.attach_step = plan.steps.size();
      plan.steps.push_back({(o ? "switch " : "attach ") + n->name + where, at,
                            PlanBuilder::subject(iface, h, n->name)});
      fill.index = 0;
      plan.fills.push_back(fill);
      out.hooks[h].push_back(std::move(*rec));
      if (o != nullptr) b.release(*o);
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
