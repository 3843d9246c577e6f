// DirectAttach: without chaining at most one program per (interface, hook), attached directly
// and replaced make-before-break by switching its link in one step (docs/chain-protocol.md §4.10).
#include "engine/hook_strategy.h"

namespace l3afd::engine {

using model::BpfProgram;

namespace {

/// A new instance of `n` attached to the hook; when it replaces `o`, the attach switches o's
/// link to it (make-before-break) and o is released after the commit.
Result<HookResult> replace(PlanBuilder& b, const HookChange& c, const ProgramRecord* o,
                           const BpfProgram& n) {
  std::optional<std::string> carry;
  if (o != nullptr && o->spec.version != n.version) carry = o->object_key;
  auto built = b.build(c.iface, c.hook, n, "", carry);
  if (!built) return fail(std::move(built.error()));
  ProgramRecord& rec = built->record;
  Plan::Fill fill = built->fill;
  fill.index = 0;
  if (rec.object_key.empty()) {
    // A self-loading program without chaining attaches itself (docs/compatibility.md §11.1);
    // the program it replaces is detached first (its binary may not share the hook).
    if (o != nullptr) {
      b.detach(c.iface, c.hook, *o);
      b.release(*o);
    }
    b.plan().fills.push_back(fill);
    return HookResult{.records = {std::move(rec)}, .root = std::nullopt, .changed = true};
  }
  Attach at{b.attach_spec(rec.object_key, c.iface, c.hook, rec.paths), std::nullopt};
  if (o != nullptr) {
    at.spec.replace_link_pin = o->paths.link_pin;
    at.previous = b.attach_spec(o->object_key, c.iface, c.hook, o->paths);
  } else {
    // A link left pinned by a previous run (crash) is taken over instead of failing.
    at.spec.replace_link_pin = b.adoptable_link(c.iface, c.hook, rec.paths.link_pin);
  }
  fill.attach = b.plan().append((o ? "switch " : "attach ") + n.name + b.where(c.iface, c.hook), at,
                                PlanBuilder::subject(c.iface, c.hook, n.name));
  b.plan().fills.push_back(fill);
  if (o != nullptr) b.release(*o);
  return HookResult{.records = {std::move(rec)}, .root = std::nullopt, .changed = true};
}

}  // namespace

Result<HookResult> DirectAttach::plan(PlanBuilder& b, const HookChange& c) const {
  const ProgramRecord* o = c.old.empty() ? nullptr : &c.old.front();
  const BpfProgram* n = c.want.empty() ? nullptr : &c.want.front();
  if (o == nullptr && n == nullptr) return HookResult{};
  if (n == nullptr) {
    b.detach(c.iface, c.hook, *o);
    b.release(*o);
    return HookResult{.changed = true};
  }
  const bool rebuild = o != nullptr && b.must_rebuild(o->object_key);
  if (o != nullptr && !rebuild && o->spec == *n) return HookResult{.records = {*o}};
  if (o != nullptr && !rebuild && differs_only_in_place(o->spec, *n, false)) {
    return HookResult{.records = {b.reconfigure(c.iface, c.hook, *o, *n)}, .changed = true};
  }
  return replace(b, c, o, *n);
}

}  // namespace l3afd::engine
