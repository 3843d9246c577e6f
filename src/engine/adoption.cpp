// Engine::adopt_live_chains: the "adopt, do not rebuild" part of a restart (docs/chain-protocol.md
// §4.8). Reads the live chain of a hook back from the kernel through the pins a previous run left
// and takes it over by fd when it is exactly the chain the store asks for.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "chain/planner.h"
#include "engine/engine.h"
#include "engine/plan_builder.h"

namespace l3afd::engine {

namespace {

/// The enabled programs of hook `h` of `e`, in seq_id order.
std::vector<model::BpfProgram> wanted(const model::L3afBpfPrograms& e, model::Hook h) {
  std::vector<model::BpfProgram> out;
  if (!e.bpf_programs) return out;
  for (const auto& p : e.bpf_programs->of(h).value_or(std::vector<model::BpfProgram>{})) {
    if (p.admin_status == "enabled") out.push_back(p);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.seq_id < b.seq_id; });
  return out;
}

}  // namespace

void Engine::adopt_live_chains(const model::L3afBpfPrograms& e, const PinnedLinks& links) {
  const auto& layout = cfg_.planner.layout;
  for (model::Hook h : model::kAllHooks) {
    const auto progs = wanted(e, h);
    if (progs.empty() || progs.size() > chain::kMaxChainLength) continue;
    auto link = links.find({e.iface, h});
    if (link == links.end()) continue;  // no root link: nothing of this hook is live
    const std::string where = e.iface + " " + std::string(model::direction(h));

    std::vector<std::string> taken;  // adopted keys, forgotten again if the hook fails
    auto give_up = [&](const std::string& why) {
      spdlog::info("restore: chain on {} not adopted ({}); it is rebuilt and switched in", where,
                   why);
      for (auto it = taken.rbegin(); it != taken.rend(); ++it) (void)kernel_.discard(*it);
    };
    auto take = [&](const model::BpfProgram& p,
                    const std::string& private_map) -> std::optional<ProgramRecord> {
      auto paths = layout.program(e.iface, h, p.name, p.version, pin_entry(p), p.map_name);
      if (!paths) return std::nullopt;
      ProgramRecord r;
      r.spec = p;
      r.paths = *paths;
      r.object_key = instance_key(e.iface, h, p, applied_.next_instance++);
      kernel::AdoptSpec spec{r.object_key,
                             p.entry_function_name,
                             h,
                             paths->map_dir,
                             paths->prog_pin,
                             private_map,
                             paths->map_name_path,
                             paths->link_pin.parent_path()};
      auto o = kernel_.adopt(spec);
      if (!o) {
        give_up(p.name + ": " + o.error().message);
        return std::nullopt;
      }
      taken.push_back(r.object_key);
      r.prog_id = o->prog_id;
      r.maps = o->maps;
      if (auto pkg = packages_.fetch(package_of(p, cfg_.planner.default_repo_url))) {
        r.package_dir = pkg->dir;
      }
      return r;
    };

    const RootDef& def = cfg_.planner.root(h);
    auto root = take(root_program(def, h), def.array_map);
    if (!root) continue;
    std::vector<ProgramRecord> records;
    bool ok_so_far = true;
    for (const auto& p : progs) {
      auto r = take(p, p.map_name);
      if (!r) {
        ok_so_far = false;
        break;
      }
      records.push_back(std::move(*r));
    }
    if (!ok_so_far) continue;  // give_up() already ran

    // The live chain read back slot by slot (K9) must be exactly root -> P1 -> ... -> Pn.
    std::string mismatch;
    const ProgramRecord* owner = &*root;
    for (std::size_t i = 0; i <= records.size() && mismatch.empty(); ++i) {
      if (owner->spec.map_name.empty()) break;  // the last program may have no next array
      const uint32_t want = i < records.size() ? records[i].prog_id : 0;
      auto got = kernel_.read_slot(owner->object_key, owner->spec.map_name);
      if (!got || *got != want) {
        mismatch = "slot of " + owner->spec.name + " holds program " +
                   (got ? std::to_string(*got) : got.error().message) + ", not " +
                   std::to_string(want);
      }
      if (i < records.size()) owner = &records[i];
    }
    if (!mismatch.empty()) {
      give_up(mismatch);
      continue;
    }
    kernel::AttachSpec at;
    at.key = root->object_key;
    at.iface = e.iface;
    at.hook = h;
    at.link_pin_path = root->paths.link_pin;
    at.tc_mode = cfg_.planner.tc_mode;
    at.replace_link_pin = link->second;
    auto info = kernel_.attach(at);  // takes the pinned root link over (same program)
    if (!info) {
      give_up("root link: " + info.error().message);
      continue;
    }
    root->attach = *info;
    auto& rec = applied_.ifaces[e.iface];
    rec.ipv4_address = e.ipv4_address;
    rec.hooks[h] = std::move(records);
    rec.roots[h] = std::move(*root);
    spdlog::info("restore: chain on {} adopted as it runs ({} program(s), root prog_id {})", where,
                 rec.hooks[h].size(), rec.roots[h].prog_id);
  }
  publish();
}

void Engine::adopt_live_direct(const model::L3afBpfPrograms& e, const PinnedLinks& links) {
  const auto& layout = cfg_.planner.layout;
  for (model::Hook h : model::kAllHooks) {
    const auto progs = wanted(e, h);
    // One program per hook without chaining; a self-loading one attaches itself (its binary is
    // adopted by the supervisor, not here).
    if (progs.size() != 1 || progs.front().object_file.empty()) continue;
    const model::BpfProgram& p = progs.front();
    auto link = links.find({e.iface, h});
    if (link == links.end()) continue;  // nothing of this hook is live
    const std::string where = p.name + " on " + e.iface + " " + std::string(model::direction(h));
    auto paths = layout.program(e.iface, h, p.name, p.version, pin_entry(p), p.map_name);
    if (!paths) continue;
    if (link->second != paths->link_pin) {
      spdlog::info(
          "restore: {} not adopted (the hook's pinned link {} is not its own); it is "
          "loaded again and the link switched to it",
          where, link->second.string());
      continue;
    }
    ProgramRecord r;
    r.spec = p;
    r.paths = *paths;
    r.object_key = instance_key(e.iface, h, p, applied_.next_instance++);
    kernel::AdoptSpec spec{
        r.object_key, p.entry_function_name,        h, paths->map_dir, paths->prog_pin, "",
        {},           paths->link_pin.parent_path()};
    auto o = kernel_.adopt(spec);
    if (!o) {
      spdlog::info("restore: {} not adopted ({}); it is loaded again and the link switched to it",
                   where, o.error().message);
      continue;
    }
    r.prog_id = o->prog_id;
    r.maps = o->maps;
    kernel::AttachSpec at;
    at.key = r.object_key;
    at.iface = e.iface;
    at.hook = h;
    at.link_pin_path = paths->link_pin;
    at.tc_mode = cfg_.planner.tc_mode;
    at.replace_link_pin = link->second;
    auto info = kernel_.attach(at);  // takes the pinned link over (already running this program)
    if (!info) {
      spdlog::info("restore: {} not adopted (link: {}); it is loaded again", where,
                   info.error().message);
      (void)kernel_.discard(r.object_key);
      continue;
    }
    r.attach = *info;
    if (auto pkg = packages_.fetch(package_of(p, cfg_.planner.default_repo_url))) {
      r.package_dir = pkg->dir;
    }
    auto& rec = applied_.ifaces[e.iface];
    rec.ipv4_address = e.ipv4_address;
    spdlog::info("restore: {} adopted as it runs (prog_id {})", where, r.prog_id);
    rec.hooks[h] = {std::move(r)};
  }
  publish();
}

void Engine::adopt_live_probes(const model::L3afBpfPrograms& e) {
  if (!e.bpf_programs || !e.bpf_programs->probes) return;
  for (const auto& p : *e.bpf_programs->probes) {
    if (p.admin_status != "enabled" || p.object_file.empty()) continue;
    const bool known = std::any_of(applied_.probes.begin(), applied_.probes.end(),
                                   [&](const ProbeRecord& r) { return r.spec.name == p.name; });
    if (known) continue;  // every store element repeats all probes
    auto paths = cfg_.planner.layout.probe(p.name, p.version);
    if (!paths) continue;
    ProbeRecord r;
    r.spec = p;
    r.paths = *paths;
    r.object_key = "probes/" + p.name + "/" + layout::version_dir(p.version) + "#" +
                   std::to_string(applied_.next_instance++);
    auto o = kernel_.adopt_probes(kernel::ProbeSpec{.key = r.object_key,
                                                    .object_file = {},
                                                    .map_pin_dir = paths->map_dir,
                                                    .link_dir = paths->link_dir});
    if (!o) {
      spdlog::info("restore: probe {} not adopted ({}); it is loaded again", p.name,
                   o.error().message);
      continue;
    }
    r.attached = o->probes;
    r.maps = o->maps;
    if (auto pkg = packages_.fetch(package_of(p, cfg_.planner.default_repo_url))) {
      r.package_dir = pkg->dir;
    }
    spdlog::info("restore: probe {} adopted ({} program(s) still attached)", p.name,
                 r.attached.size());
    applied_.probes.push_back(std::move(r));
  }
}

}  // namespace l3afd::engine
