// Chained hooks (bpf-chaining-enabled: true): turns a chain::Plan (which instances to build,
// which slot writes in which order, what to retire) into engine steps, including the root of
// the hook. Make-before-break (chaining.md §4): every new instance is loaded, its maps written
// and its own slot wired before the one flip; the new arrays are pinned after the flip; what
// left the chain is released after the commit.
#include <algorithm>
#include <map>

#include "chain/planner.h"
#include "engine/plan_builder.h"

namespace l3afd::engine {

using model::BpfProgram;
using model::Hook;

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

namespace {

/// Successor of `key` in `chain` (the program its slot holds), nullopt if last or absent.
std::optional<std::string> successor(const std::vector<chain::Instance>& chain,
                                     const std::optional<std::string>& key) {
  if (!key) return chain.empty() ? std::nullopt : std::optional<std::string>(chain.front().id);
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
    if (chain[i].id == *key) return chain[i + 1].id;
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<ProgramRecord>> plan_chained_hook(PlanBuilder& b, const std::string& iface,
                                                     Hook h, const std::vector<ProgramRecord>& old,
                                                     const std::optional<ProgramRecord>& old_root,
                                                     const std::vector<BpfProgram>& want,
                                                     std::optional<ProgramRecord>& root_out,
                                                     bool& changed) {
  const PlannerConfig& cfg = b.cfg();
  Plan& plan = b.plan();
  const std::string where = PlanBuilder::where(iface, h);
  root_out = old_root;
  if (!old.empty() && !old_root) {
    return fail(Errc::Internal, "chained hook" + where + " has programs but no root");
  }

  // Instances of the live chain (ids are object keys) and of the desired chain. A desired
  // program that matches a live one except for in-place fields keeps that instance; any other
  // gets a placeholder id "+<name>" until it is built.
  std::map<std::string, ProgramRecord> records;  // id -> record
  std::vector<chain::Instance> old_chain;
  for (const auto& r : old) {
    old_chain.push_back({r.spec.name, r.object_key});
    records[r.object_key] = r;
  }
  std::vector<chain::Instance> new_chain;
  std::vector<Step> in_place;
  for (const auto& p : want) {
    auto it = std::find_if(old.begin(), old.end(),
                           [&](const ProgramRecord& r) { return r.spec.name == p.name; });
    if (it != old.end() && differs_only_in_place(it->spec, p, true)) {
      ProgramRecord& r = records[it->object_key];
      if (r.spec.map_args != p.map_args || r.spec.monitor_maps != p.monitor_maps) {
        in_place.push_back(
            {"write maps of " + p.name + where,
             ConfigureMaps{r.object_key, p.map_args.value_or(std::vector<model::MapArg>{}),
                           p.monitor_maps.value_or(std::vector<model::MonitorMap>{}),
                           r.spec.map_args.value_or(std::vector<model::MapArg>{})},
             PlanBuilder::subject(iface, h, p.name)});
        in_place.push_back({"seed " + p.name + where, RunIterators{r.object_key},
                            PlanBuilder::subject(iface, h, p.name)});
      }
      if (!(r.spec == p)) changed = true;
      r.spec = p;
      new_chain.push_back({p.name, r.object_key});
    } else {
      ProgramRecord r;
      r.spec = p;
      records["+" + p.name] = r;
      new_chain.push_back({p.name, "+" + p.name});
    }
  }
  // A program kept in the desired chain whose successor changes is rebuilt as a fresh
  // instance of the same definition ("~<old id>").
  auto fresh = [&](const chain::Instance& of) {
    chain::Instance i{of.program, "~" + of.id};
    ProgramRecord r;
    r.spec = records.at(of.id).spec;
    records[i.id] = r;
    return i;
  };
  auto cp = chain::plan_chain(old_chain, new_chain, fresh);
  if (!cp) return fail(std::move(cp.error()));

  for (auto& s : in_place) plan.steps.push_back(std::move(s));

  std::vector<ProgramRecord> result;
  if (!cp->changes()) {
    for (const auto& i : cp->chain) result.push_back(records.at(i.id));
    if (result.empty() && old_root) {
      // A root without programs (should not persist): detach and release it.
      changed = true;
      plan.steps.push_back({"detach root " + old_root->spec.name + where,
                            Detach{old_root->object_key, b.attach_spec(old_root->object_key, iface,
                                                                       h, old_root->paths)}});
      b.release_root(*old_root);
      root_out.reset();
    }
    return result;
  }
  changed = true;
  const bool original = cfg.chain_order == ChainOrder::OriginalUnsafe;

  // The flip and what its slot held before.
  const chain::Write& flip = cp->writes[*cp->flip_index];
  const std::optional<std::string> flip_owner =
      flip.owner.is_root() ? std::nullopt : std::optional<std::string>(flip.owner.owner->id);
  const std::optional<std::string> flip_previous =
      cp->root == chain::RootChange::Create ? std::nullopt : successor(old_chain, flip_owner);

  // Control only (ChainOrder::OriginalUnsafe): clear the live predecessor's slot first (W1).
  std::map<std::string, std::string> key_of;  // instance id -> object key
  for (const auto& r : old) key_of[r.object_key] = r.object_key;
  auto owner_key = [&](const chain::Slot& s) {
    return s.is_root() ? root_out->object_key : key_of.at(s.owner->id);
  };
  auto owner_array = [&](const chain::Slot& s) {
    return s.is_root() ? root_out->spec.map_name : records.at(s.owner->id).spec.map_name;
  };
  bool cleared_first = false;
  if (original && flip_previous && cp->root == chain::RootChange::Keep) {
    plan.steps.push_back(
        {"unlink" + where + " (original order)",
         WriteSlot{owner_key(flip.owner), owner_array(flip.owner), std::nullopt, flip_previous},
         PlanBuilder::subject(iface, h, "")});
    cleared_first = true;
  }

  // Build every new instance (chaining.md §4.4) with a fresh private next array.
  std::map<std::string, Plan::Fill> fills;  // instance id -> fill (index set below)
  for (const auto& inst : cp->build) {
    Plan::Fill fill;
    const BpfProgram spec = records.at(inst.id).spec;
    // A new version of a program on the live chain inherits its state (same-named maps).
    std::optional<std::string> carry;
    for (const auto& o : old) {
      if (o.spec.name == spec.name && o.spec.version != spec.version) carry = o.object_key;
    }
    auto rec = b.build(iface, h, spec, spec.map_name, fill, carry);
    if (!rec) return fail(std::move(rec.error()));
    key_of[inst.id] = rec->object_key;
    records[inst.id] = std::move(*rec);
    fills[inst.id] = fill;
  }
  std::optional<Plan::Fill> root_fill;
  if (cp->root == chain::RootChange::Create) {
    Plan::Fill fill;
    auto rec = b.build(iface, h, root_program(cfg.root(h), h), cfg.root(h).array_map, fill);
    if (!rec) return fail(std::move(rec.error()));
    fill.root = true;
    root_out = std::move(*rec);
    root_fill = fill;
  }

  // Slot writes: the wiring of the new instances backwards, then the flip (I2, I3). In the
  // original order the flip comes first and the wiring after it.
  auto emit = [&](const chain::Write& w, std::optional<std::string> previous) {
    std::optional<std::string> target;
    if (w.target) target = key_of.at(w.target->id);
    const std::string owner = owner_key(w.owner);
    plan.steps.push_back({"link " + chain::to_string(w) + where,
                          WriteSlot{owner, owner_array(w.owner), target, std::move(previous)},
                          PlanBuilder::subject(iface, h, w.target ? w.target->program : "")});
  };
  const bool remove_root = cp->root == chain::RootChange::Remove;
  if (original) {
    if (!remove_root) emit(flip, cleared_first ? std::nullopt : flip_previous);
    for (std::size_t i = 0; i < cp->writes.size(); ++i) {
      if (i != *cp->flip_index) emit(cp->writes[i], std::nullopt);
    }
  } else {
    for (std::size_t i = 0; i < cp->writes.size(); ++i) {
      if (i == *cp->flip_index) {
        // The last program leaves: detaching the root is the switch; its slot stays as is.
        if (!remove_root) emit(cp->writes[i], flip_previous);
      } else {
        emit(cp->writes[i], std::nullopt);
      }
    }
  }

  if (cp->root == chain::RootChange::Create) {
    // The root goes live last, already pointing at the complete chain (chaining.md §4.7). A
    // root link left pinned by a previous run is switched atomically instead (§4.8).
    Attach at{b.attach_spec(root_out->object_key, iface, h, root_out->paths), std::nullopt};
    at.spec.replace_link_pin = b.adoptable_link(iface, h, root_out->paths.link_pin);
    root_fill->attach_step = plan.steps.size();
    plan.steps.push_back({"attach root " + root_out->spec.name + where, at,
                          PlanBuilder::subject(iface, h, root_out->spec.name)});
  } else if (remove_root) {
    plan.steps.push_back({"detach root " + old_root->spec.name + where,
                          Detach{old_root->object_key,
                                 b.attach_spec(old_root->object_key, iface, h, old_root->paths)}});
  }

  // Pin the new arrays where their predecessors were (MapNamePath names the live array).
  for (const auto& inst : cp->build) {
    const ProgramRecord& r = records.at(inst.id);
    if (r.spec.map_name.empty()) continue;
    std::optional<std::string> previous;
    for (const auto& o : old) {
      if (o.paths.map_name_path == r.paths.map_name_path) previous = o.object_key;
    }
    plan.steps.push_back({"pin " + r.spec.map_name + " of " + r.spec.name + where,
                          PinMap{r.object_key, r.spec.map_name, r.paths.map_name_path, previous},
                          PlanBuilder::subject(iface, h, r.spec.name)});
  }
  if (cp->root == chain::RootChange::Create) {
    plan.steps.push_back({"pin " + root_out->spec.map_name + where,
                          PinMap{root_out->object_key, root_out->spec.map_name,
                                 root_out->paths.map_name_path, std::nullopt},
                          PlanBuilder::subject(iface, h, root_out->spec.name)});
    plan.fills.push_back(*root_fill);
  }

  // What left the chain is released after the commit (chaining.md §4.1 I5).
  for (const auto& inst : cp->retire) b.release(records.at(inst.id));
  if (remove_root) {
    b.release_root(*old_root);
    root_out.reset();
  }

  for (const auto& inst : cp->chain) {
    if (auto f = fills.find(inst.id); f != fills.end()) {
      f->second.index = result.size();
      plan.fills.push_back(f->second);
    }
    result.push_back(records.at(inst.id));
  }
  return result;
}

}  // namespace l3afd::engine
