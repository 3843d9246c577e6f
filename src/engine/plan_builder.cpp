#include "engine/plan_builder.h"

namespace l3afd::engine {

using model::BpfProgram;
using model::Hook;

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

BpfProgram root_program(const RootDef& d, Hook h) {
  BpfProgram p;
  p.name = d.package_name;
  p.version = d.version;
  p.artifact = d.artifact;
  p.object_file = d.object_file;
  p.entry_function_name = d.entry_function;
  p.map_name = d.array_map;
  p.admin_status = "enabled";
  p.prog_type = model::is_tc(h) ? "tc" : "xdp";
  p.seq_id = 0;
  return p;
}

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

namespace {

kernel::LoadSpec load_spec(const std::string& key, Hook h, const BpfProgram& p,
                           const layout::ProgramPaths& paths, const std::string& private_map) {
  kernel::LoadSpec ls;
  ls.key = key;
  ls.object_file = p.object_file;
  ls.entry_function = p.entry_function_name;
  ls.hook = h;
  ls.map_pin_dir = paths.map_dir;
  ls.prog_pin_path = paths.prog_pin;
  ls.private_map = private_map;
  ls.companion_link_dir = paths.link_pin.parent_path();
  return ls;
}

}  // namespace

Result<PlanBuilder::Built> PlanBuilder::build(const std::string& iface, Hook h, const BpfProgram& p,
                                              const std::string& private_map,
                                              const std::optional<std::string>& carry_from) {
  auto paths = cfg_.layout.program(iface, h, p.name, p.version, p.entry_function_name, p.map_name);
  if (!paths) return fail(std::move(paths.error()));
  Built out;
  ProgramRecord& rec = out.record;
  rec.spec = p;
  rec.paths = *paths;
  rec.object_key = instance_key(iface, h, p, plan_.next.next_instance++);
  const ErrorItem subj = subject(iface, h, p.name);
  const std::string at = where(iface, h);

  out.fill.iface = iface;
  out.fill.hook = h;
  const auto package = plan_.append("fetch package " + p.name + "@" + p.version,
                                    FetchPackage{package_of(p, cfg_.default_repo_url)}, subj);
  out.fill.fetch = package;
  out.fill.load =
      plan_.append("load " + p.name + at,
                   LoadObject{load_spec(rec.object_key, h, p, *paths, private_map), package}, subj);
  if (carry_from) {
    plan_.append("carry state of " + p.name + " over to " + p.version + at,
                 CarryMaps{*carry_from, rec.object_key}, subj);
  }
  std::vector<model::MapArg> args = p.map_args.value_or(std::vector<model::MapArg>{});
  std::vector<model::MonitorMap> mons = p.monitor_maps.value_or(std::vector<model::MonitorMap>{});
  if (!args.empty() || !mons.empty()) {
    plan_.append("write maps of " + p.name + at,
                 ConfigureMaps{rec.object_key, args, mons, std::nullopt}, subj);
  }
  // After map_args: an iterator seeding state reads the configured keys (docs/packages.md §4).
  plan_.append("seed " + p.name + at, RunIterators{rec.object_key}, subj);
  return out;
}

ProgramRecord PlanBuilder::reconfigure(const std::string& iface, Hook h, const ProgramRecord& r,
                                       const BpfProgram& p) {
  if (r.spec.map_args != p.map_args || r.spec.monitor_maps != p.monitor_maps) {
    const std::string at = where(iface, h);
    plan_.append("write maps of " + p.name + at,
                 ConfigureMaps{r.object_key, p.map_args.value_or(std::vector<model::MapArg>{}),
                               p.monitor_maps.value_or(std::vector<model::MonitorMap>{}),
                               r.spec.map_args.value_or(std::vector<model::MapArg>{})},
                 subject(iface, h, p.name));
    plan_.append("seed " + p.name + at, RunIterators{r.object_key}, subject(iface, h, p.name));
  }
  ProgramRecord out = r;
  out.spec = p;
  return out;
}

void PlanBuilder::detach(const std::string& iface, Hook h, const ProgramRecord& r,
                         const std::string& what) {
  plan_.append("detach " + what + r.spec.name + where(iface, h),
               Detach{r.object_key, attach_spec(r.object_key, iface, h, r.paths)});
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

}  // namespace l3afd::engine
