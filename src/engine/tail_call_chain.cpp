// TailCallChain (bpf-chaining-enabled: true): turns a chain::Plan (which instances to build,
// which slot writes in which order, what to retire) into engine steps, including the root of
// the hook. Make-before-break (docs/chain-protocol.md §4): every new instance is loaded, its maps
// written and its own slot wired before the one flip; the new arrays are pinned after the flip;
// what left the chain is released after the commit.
#include <algorithm>
#include <map>

#include "chain/planner.h"
#include "engine/hook_strategy.h"

namespace l3afd::engine {

using model::BpfProgram;

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

/// The plan of one chained hook, step by step. Instance ids are object keys for live
/// instances, "+<name>" for new programs and "~<id>" for rebuilt ones until they are built.
class ChainPlanner {
 public:
  ChainPlanner(PlanBuilder& b, const HookChange& c)
      : b_(b), c_(c), where_(PlanBuilder::where(c.iface, c.hook)) {
    out_.root = c.old_root;
  }

  Result<HookResult> run() {
    if (!c_.old.empty() && !c_.old_root) {
      return fail(Errc::Internal, "chained hook" + where_ + " has programs but no root");
    }
    // The root to rebuild (PlanOptions::rebuild: its interface was created again, so its link
    // died with the old one): the whole hook is built anew behind a new root, which is attached
    // last; the old instances are released after the commit. Maps pinned by name are shared.
    rebuild_root_ = c_.old_root && b_.must_rebuild(c_.old_root->object_key);
    match_instances();
    auto cp = chain::plan_chain(old_chain_, new_chain_,
                                [this](const chain::Instance& of) { return fresh(of); });
    if (!cp) return fail(std::move(cp.error()));
    cp_ = std::move(*cp);
    if (!cp_.changes()) return unchanged();
    out_.changed = true;
    if (auto st = build_all(); !st) return fail(std::move(st.error()));
    write_slots();
    switch_root();
    pin_arrays();
    retire();
    collect_records();
    return std::move(out_);
  }

 private:
  /// Live and desired chains. A desired program equal to a live one up to in-place fields keeps
  /// that instance (maps rewritten if they changed); any other is a new instance.
  void match_instances() {
    if (rebuild_root_) {
      for (const auto& p : c_.want) {
        records_["+" + p.name].spec = p;
        new_chain_.push_back({p.name, "+" + p.name});
      }
      return;
    }
    for (const auto& r : c_.old) {
      old_chain_.push_back({r.spec.name, r.object_key});
      records_[r.object_key] = r;
      key_of_[r.object_key] = r.object_key;
    }
    for (const auto& p : c_.want) {
      auto it = std::find_if(c_.old.begin(), c_.old.end(),
                             [&](const ProgramRecord& r) { return r.spec.name == p.name; });
      // A live instance to rebuild (PlanOptions::rebuild) is replaced like a changed one.
      if (it != c_.old.end() && !b_.must_rebuild(it->object_key) &&
          differs_only_in_place(it->spec, p, true)) {
        if (!(it->spec == p)) out_.changed = true;
        records_[it->object_key] = b_.reconfigure(c_.iface, c_.hook, *it, p);
        new_chain_.push_back({p.name, it->object_key});
      } else {
        records_["+" + p.name].spec = p;
        new_chain_.push_back({p.name, "+" + p.name});
      }
    }
  }

  /// A kept program whose successor changes is rebuilt as a fresh instance of its definition.
  chain::Instance fresh(const chain::Instance& of) {
    chain::Instance i{of.program, "~" + of.id};
    records_[i.id].spec = records_.at(of.id).spec;
    return i;
  }

  /// Nothing to rewire; a root left without programs (should not persist) is taken down.
  HookResult unchanged() {
    collect_records();
    if (out_.records.empty() && c_.old_root) {
      out_.changed = true;
      b_.detach(c_.iface, c_.hook, *c_.old_root, "root ");
      b_.release_root(*c_.old_root);
      out_.root.reset();
    }
    return std::move(out_);
  }

  bool original_order() const { return b_.cfg().chain_order == ChainOrder::OriginalUnsafe; }
  const chain::Write& flip() const { return cp_.writes[*cp_.flip_index]; }
  /// What the flip's slot held before (nothing when the root is new).
  std::optional<std::string> flip_previous() const {
    if (cp_.root == chain::RootChange::Create) return std::nullopt;
    const auto& owner = flip().owner;
    return successor(old_chain_,
                     owner.is_root() ? std::nullopt : std::optional<std::string>(owner.owner->id));
  }
  std::string owner_key(const chain::Slot& s) const {
    return s.is_root() ? out_.root->object_key : key_of_.at(s.owner->id);
  }
  std::string owner_array(const chain::Slot& s) const {
    return s.is_root() ? out_.root->spec.map_name : records_.at(s.owner->id).spec.map_name;
  }

  /// Control only (ChainOrder::OriginalUnsafe): clear the live predecessor's slot first (W1).
  void clear_first() {
    if (!original_order() || !flip_previous() || cp_.root != chain::RootChange::Keep) return;
    b_.plan().append("unlink" + where_ + " (original order)",
                     WriteSlot{owner_key(flip().owner), owner_array(flip().owner), std::nullopt,
                               flip_previous()},
                     PlanBuilder::subject(c_.iface, c_.hook, ""));
    cleared_first_ = true;
  }

  /// Every new instance (docs/chain-protocol.md §4.4) with a fresh private next array, then a new
  /// root.
  Status build_all() {
    clear_first();
    for (const auto& inst : cp_.build) {
      const BpfProgram spec = records_.at(inst.id).spec;
      // A new version of a program on the live chain inherits its state (same-named maps).
      std::optional<std::string> carry;
      for (const auto& o : c_.old) {
        if (o.spec.name == spec.name && o.spec.version != spec.version) carry = o.object_key;
      }
      auto built = b_.build(c_.iface, c_.hook, spec, spec.map_name, carry);
      if (!built) return fail(std::move(built.error()));
      key_of_[inst.id] = built->record.object_key;
      records_[inst.id] = std::move(built->record);
      fills_[inst.id] = built->fill;
    }
    if (cp_.root != chain::RootChange::Create) return ok();
    const RootDef& def = b_.cfg().root(c_.hook);
    auto built = b_.build(c_.iface, c_.hook, root_program(def, c_.hook), def.array_map);
    if (!built) return fail(std::move(built.error()));
    out_.root = std::move(built->record);
    root_fill_ = built->fill;
    root_fill_->root = true;
    return ok();
  }

  void write_slot(const chain::Write& w, std::optional<std::string> previous) {
    std::optional<std::string> target;
    if (w.target) target = key_of_.at(w.target->id);
    b_.plan().append(
        "link " + chain::to_string(w) + where_,
        WriteSlot{owner_key(w.owner), owner_array(w.owner), target, std::move(previous)},
        PlanBuilder::subject(c_.iface, c_.hook, w.target ? w.target->program : ""));
  }

  /// The wiring of the new instances backwards, then the flip (I2, I3); in the original order
  /// the flip first. When the last program leaves, detaching the root is the switch instead.
  void write_slots() {
    const bool remove_root = cp_.root == chain::RootChange::Remove;
    const std::size_t f = *cp_.flip_index;
    if (original_order() && !remove_root) {
      write_slot(flip(), cleared_first_ ? std::nullopt : flip_previous());
    }
    for (std::size_t i = 0; i < cp_.writes.size(); ++i) {
      if (i != f) {
        write_slot(cp_.writes[i], std::nullopt);
      } else if (!original_order() && !remove_root) {
        write_slot(cp_.writes[i], flip_previous());
      }
    }
  }

  /// A new root goes live last, already pointing at the complete chain (docs/chain-protocol.md
  /// §4.7); a root link left pinned by a previous run is switched atomically instead (§4.8).
  void switch_root() {
    if (cp_.root == chain::RootChange::Create) {
      const ProgramRecord& root = *out_.root;
      Attach at{b_.attach_spec(root.object_key, c_.iface, c_.hook, root.paths), std::nullopt};
      at.spec.replace_link_pin = b_.adoptable_link(c_.iface, c_.hook, root.paths.link_pin);
      root_fill_->attach =
          b_.plan().append("attach root " + root.spec.name + where_, at,
                           PlanBuilder::subject(c_.iface, c_.hook, root.spec.name));
    } else if (cp_.root == chain::RootChange::Remove) {
      b_.detach(c_.iface, c_.hook, *c_.old_root, "root ");
    }
  }

  /// The new arrays are pinned where their predecessors were (MapNamePath names the live one).
  void pin_arrays() {
    for (const auto& inst : cp_.build) {
      const ProgramRecord& r = records_.at(inst.id);
      if (r.spec.map_name.empty()) continue;
      std::optional<std::string> previous;
      for (const auto& o : c_.old) {
        if (o.paths.map_name_path == r.paths.map_name_path) previous = o.object_key;
      }
      b_.plan().append("pin " + r.spec.map_name + " of " + r.spec.name + where_,
                       PinMap{r.object_key, r.spec.map_name, r.paths.map_name_path, previous},
                       PlanBuilder::subject(c_.iface, c_.hook, r.spec.name));
    }
    if (cp_.root != chain::RootChange::Create) return;
    const ProgramRecord& root = *out_.root;
    // A rebuilt root's array takes the old root's pin (restored by a rollback).
    std::optional<std::string> previous_root;
    if (rebuild_root_ && c_.old_root->paths.map_name_path == root.paths.map_name_path) {
      previous_root = c_.old_root->object_key;
    }
    b_.plan().append(
        "pin " + root.spec.map_name + where_,
        PinMap{root.object_key, root.spec.map_name, root.paths.map_name_path, previous_root},
        PlanBuilder::subject(c_.iface, c_.hook, root.spec.name));
    b_.plan().fills.push_back(*root_fill_);
  }

  /// What left the chain is released after the commit (docs/chain-protocol.md §4.1 I5).
  void retire() {
    if (rebuild_root_) {
      for (const auto& r : c_.old) b_.release(r);
      b_.release_root(*c_.old_root);
      return;
    }
    for (const auto& inst : cp_.retire) b_.release(records_.at(inst.id));
    if (cp_.root == chain::RootChange::Remove) {
      b_.release_root(*c_.old_root);
      out_.root.reset();
    }
  }

  /// The records of the resulting chain; new instances get their fill at their position.
  void collect_records() {
    for (const auto& inst : cp_.chain) {
      if (auto f = fills_.find(inst.id); f != fills_.end()) {
        f->second.index = out_.records.size();
        b_.plan().fills.push_back(f->second);
      }
      out_.records.push_back(records_.at(inst.id));
    }
  }

  PlanBuilder& b_;
  const HookChange& c_;
  const std::string where_;
  std::map<std::string, ProgramRecord> records_;  ///< instance id -> record
  std::map<std::string, std::string> key_of_;     ///< instance id -> object key
  std::vector<chain::Instance> old_chain_;
  std::vector<chain::Instance> new_chain_;
  chain::Plan cp_;
  std::map<std::string, Plan::Fill> fills_;  ///< instance id -> fill of a new instance
  std::optional<Plan::Fill> root_fill_;
  bool cleared_first_ = false;
  bool rebuild_root_ = false;  ///< the whole hook is rebuilt behind a new root
  HookResult out_;
};

}  // namespace

Result<HookResult> TailCallChain::plan(PlanBuilder& b, const HookChange& c) const {
  return ChainPlanner(b, c).run();
}

}  // namespace l3afd::engine
