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
  // docs/compatibility.md §6.3: an update_args change runs cmd_update (when there is one).
  if (!b.cmd_update.empty() && a.cmd_update == b.cmd_update) x.update_args = b.update_args;
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
  auto paths = cfg_.layout.program(iface, h, p.name, p.version, pin_entry(p), p.map_name);
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
  if (!p.cmd_start.empty()) {
    // Before anything is loaded: a command outside the package is a 400 with nothing done.
    plan_.append("check companion " + p.cmd_start + " of " + p.name,
                 CheckCompanion{companion_request(iface, h, p), package}, subj);
  }
  if (is_self_loading(p)) {
    // docs/compatibility.md §11.1: the binary loads the program. Without chaining it attaches
    // it itself, as with l3afd v2.1.0; with chaining the daemon takes it over and chains it.
    if (!cfg_.chaining) {
      start_companion(iface, h, p, package, std::nullopt);
      rec.object_key.clear();  // nothing of it is loaded or attached by the daemon
      return out;
    }
    auto taken = self_load(iface, h, p, rec, package);
    if (!taken) return fail(std::move(taken.error()));
    out.fill.load = *taken;
    if (p.map_args && !p.map_args->empty()) {
      plan_.append("write maps of " + p.name + at,
                   ConfigureMaps{rec.object_key, *p.map_args, {}, std::nullopt}, subj);
    }
    return out;
  }
  out.fill.load =
      plan_.append("load " + p.name + at,
                   LoadObject{load_spec(rec.object_key, h, p, *paths, private_map), package}, subj);
  // docs/compatibility.md §11.2: the user program starts after the load, before map_args.
  start_companion(iface, h, p, package, std::nullopt);
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
  if (!p.cmd_update.empty() && has_daemon_companion(p) && r.spec.update_args != p.update_args) {
    plan_.append("update companion of " + p.name + where(iface, h),
                 UpdateCompanion{companion_request(iface, h, p, r.package_dir)},
                 subject(iface, h, p.name));
  }
  ProgramRecord out = r;
  out.spec = p;
  return out;
}

CompanionRequest PlanBuilder::companion_request(const std::string& iface, Hook h,
                                                const BpfProgram& p,
                                                const std::filesystem::path& package_dir) const {
  return companion_request_of(iface, h, p, package_dir);
}

void PlanBuilder::start_companion(const std::string& iface, Hook h, const BpfProgram& p,
                                  StepRef<Package> package,
                                  const std::optional<std::filesystem::path>& map_name) {
  const std::string id = companion_id(iface, h, p);
  const ErrorItem subj = subject(iface, h, p.name);
  const auto b = before.find(id);
  const bool old_runs = b != before.end() && has_daemon_companion(b->second.spec);
  // A rebuild of a lost program restarts the whole program, its companion included
  // (docs/compatibility.md §15).
  const bool restart = b != before.end() && must_rebuild(b->second.object_key);
  if (old_runs && !restart && !map_name && !p.cmd_start.empty() &&
      differs_only_in_place(b->second.spec, p, true)) {
    return;  // the same companion keeps running through the rebuild of its instance
  }
  if (old_runs && stopped_.insert(id).second) {
    plan_.append("stop companion of " + p.name + where(iface, h),
                 StopCompanion{companion_request(iface, h, b->second.spec, b->second.package_dir)},
                 subj);
  }
  if (p.cmd_start.empty()) return;
  CompanionRequest req = companion_request(iface, h, p);
  req.map_name = map_name;
  plan_.append((p.user_program_daemon ? "start companion " : "run companion ") + p.cmd_start +
                   " of " + p.name + where(iface, h),
               StartCompanion{std::move(req), package}, subj);
}

Result<StepRef<kernel::LoadedObject>> PlanBuilder::self_load(const std::string& iface, Hook h,
                                                             const BpfProgram& p,
                                                             const ProgramRecord& rec,
                                                             StepRef<Package> package) {
  const std::string id = companion_id(iface, h, p);
  const std::string dir(model::direction(h));
  if (before.contains(id)) {
    // The binary pins its maps and its next array by name in the program's map directory,
    // which the live instance of the same name and version uses: a second instance would
    // share its next array (docs/chain-protocol.md §4.6).
    return fail(
        Error{.code = Errc::Conflict,
              .message = "self-loading program " + p.name + " " + p.version + " is live on " +
                         iface + " " + dir +
                         ": it cannot be rebuilt under the same version (its binary pins its next "
                         "array at " +
                         rec.paths.map_name_path.string() +
                         "); delete it first or deploy another version",
              .items = {ErrorItem{.iface = iface,
                                  .direction = dir,
                                  .program = p.name,
                                  .field = "version",
                                  .message = "a self-loading program of this version is live"}}});
  }
  const ErrorItem subj = subject(iface, h, p.name);
  const std::string at = where(iface, h);
  const std::string instance = rec.object_key.substr(rec.object_key.rfind('#') + 1);
  const std::filesystem::path staging = rec.paths.map_dir / ("l3afd_staging_" + instance);
  plan_.append("create staging array for " + p.name + at, CreateStaging{staging}, subj);
  start_companion(iface, h, p, package, staging);
  kernel::SelfLoadedSpec spec;
  spec.key = rec.object_key;
  spec.hook = h;
  spec.staging_pin = staging;
  spec.private_map = p.map_name;
  spec.next_array_pin = rec.paths.map_name_path;
  spec.map_pin_dir = rec.paths.map_dir;
  spec.prog_pin_path = rec.paths.prog_pin;
  spec.wait = cfg_.self_load_wait;
  auto taken = plan_.append("take over " + p.name + at + " from its binary",
                            TakeSelfLoaded{std::move(spec)}, subj);
  plan_.append("remove staging array of " + p.name + at, RemoveStaging{staging}, subj);
  return taken;
}

void PlanBuilder::detach(const std::string& iface, Hook h, const ProgramRecord& r,
                         const std::string& what) {
  if (r.object_key.empty()) return;  // a self-loading program without chaining
  plan_.append("detach " + what + r.spec.name + where(iface, h),
               Detach{r.object_key, attach_spec(r.object_key, iface, h, r.paths)});
}

void PlanBuilder::release(const ProgramRecord& r) {
  if (has_daemon_companion(r.spec)) {
    // The object key is the companion id plus "#<instance>".
    const std::string id = r.object_key.substr(0, r.object_key.rfind('#'));
    const auto a = after.find(id);
    const bool kept = a != after.end() && has_daemon_companion(a->second) &&
                      !is_self_loading(a->second) && differs_only_in_place(r.spec, a->second, true);
    if (!kept && !stopped_.contains(id)) {
      CompanionRequest req;
      req.id = id;
      req.package_dir = r.package_dir;
      const auto first = id.find('/');
      const auto second = id.find('/', first + 1);
      req.iface = id.substr(0, first);
      req.direction = id.substr(first + 1, second - first - 1);
      req.version_dir =
          r.spec.version.empty() ? std::string() : layout::version_dir(r.spec.version);
      req.program = r.spec;
      plan_.release.push_back(
          {"stop companion of " + r.spec.name + " (" + id + ")", StopCompanion{std::move(req)}});
    }
  }
  if (r.object_key.empty()) return;  // nothing loaded (a self-loading program without chaining)
  plan_.release.push_back(
      {"unload " + r.spec.name + " from " + r.object_key, UnloadObject{r.object_key}});
  auto nv = std::make_pair(r.spec.name, r.spec.version);
  if (!used_after.contains(nv) && released_packages_.insert(nv).second) {
    plan_.release.push_back({"remove package " + r.spec.name + "@" + r.spec.version,
                             RemovePackage{package_of(r.spec, cfg_.default_repo_url)}});
  }
}

void PlanBuilder::release_probe(const ProbeRecord& r) {
  plan_.release.push_back(
      {"unload probes " + r.spec.name + " (" + r.object_key + ")", UnloadObject{r.object_key}});
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
