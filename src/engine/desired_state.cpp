#include "engine/desired_state.h"

#include <algorithm>

#include "chain/planner.h"

namespace l3afd::engine {

using model::BpfProgram;
using model::Hook;

namespace {

std::string pointer(std::size_t entry, Hook h, std::size_t i) {
  return "/" + std::to_string(entry) + "/bpf_programs/" + std::string(model::json_key(h)) + "/" +
         std::to_string(i);
}

ErrorItem item(const std::string& iface, Hook h, const std::string& program, std::string field,
               std::string message) {
  return ErrorItem{.iface = iface,
                   .direction = std::string(model::direction(h)),
                   .program = program,
                   .field = std::move(field),
                   .message = std::move(message)};
}

/// One error of `code` carrying every item; the message is the first item's, "(and N more)".
Error combined(Errc code, std::vector<ErrorItem> items) {
  Error e{.code = code, .message = items.front().message, .items = std::move(items)};
  if (e.items.size() > 1) e.message += " (and " + std::to_string(e.items.size() - 1) + " more)";
  return e;
}

/// The enabled programs of one hook of request entry `idx`. Without chaining more than one is a
/// conflict (docs/compatibility.md §6.2); with chaining they come in seq_id order (validation has
/// made seq_ids unique per hook).
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
      conflicts.push_back(item(e.iface, h, p.name, pointer(idx, h, i),
                               "failed to add multiple programs because chaining is disabled"));
      continue;
    }
    out.push_back(p);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const BpfProgram& a, const BpfProgram& b) { return a.seq_id < b.seq_id; });
  return out;
}

/// Adds `p` to the programs `list` of iface/hook without chaining: a conflict unless the hook
/// is free or already runs exactly `p`.
void add_direct(std::vector<BpfProgram>& list, const BpfProgram& p, const std::string& iface,
                Hook h, std::vector<ErrorItem>& conflicts) {
  if (list.empty()) {
    list.push_back(p);
  } else if (!(list.front() == p)) {
    const std::string dir(model::direction(h));
    conflicts.push_back(item(iface, h, p.name, "",
                             "failed to add " + p.name + " due to existing program " +
                                 list.front().name + " on iface " + iface + " direction " + dir));
  }
}

/// Adds `p` to a chained hook (§6.2, Ours): identical re-add is a no-op; same name with another
/// definition or a seq_id already used on the hook is a conflict; else insert in seq_id order.
void add_chained(std::vector<BpfProgram>& list, const BpfProgram& p, const std::string& iface,
                 Hook h, std::vector<ErrorItem>& conflicts) {
  const std::string dir(model::direction(h));
  auto same =
      std::find_if(list.begin(), list.end(), [&](const BpfProgram& q) { return q.name == p.name; });
  if (same != list.end()) {
    if (!(*same == p)) {
      conflicts.push_back(item(iface, h, p.name, "",
                               "program " + p.name + " already runs on iface " + iface +
                                   " direction " + dir +
                                   " with another definition; use update to change it"));
    }
    return;
  }
  auto seq = std::find_if(list.begin(), list.end(),
                          [&](const BpfProgram& q) { return q.seq_id == p.seq_id; });
  if (seq != list.end()) {
    conflicts.push_back(item(iface, h, p.name, "seq_id",
                             "seq_id " + std::to_string(p.seq_id) + " is already used by " +
                                 seq->name + " on iface " + iface + " direction " + dir));
    return;
  }
  auto pos = std::find_if(list.begin(), list.end(),
                          [&](const BpfProgram& q) { return q.seq_id > p.seq_id; });
  list.insert(pos, p);
}

Result<DesiredState> checked(DesiredState d, std::vector<ErrorItem> conflicts, bool chaining) {
  if (!conflicts.empty()) return fail(combined(Errc::Conflict, std::move(conflicts)));
  if (auto c = check_chain_shapes(d, chaining); !c) return fail(std::move(c.error()));
  return d;
}

/// The map_name rule of one chained hook: only the last program may omit it (§1.1).
void check_map_names(const std::string& iface, Hook h, const std::vector<BpfProgram>& list,
                     std::vector<ErrorItem>& bad) {
  for (std::size_t i = 0; i + 1 < list.size(); ++i) {
    if (!list[i].map_name.empty()) continue;
    bad.push_back(item(iface, h, list[i].name, "map_name",
                       "program " + list[i].name +
                           " has no map_name, so it cannot pass packets on to " + list[i + 1].name +
                           "; only the last program of a chain may omit map_name"));
  }
}

/// The enabled probes of entry `e` merged into `probes` by name: a new name is appended; an equal
/// one is a no-op; another definition under a known name replaces it (`upsert`, update) or is a
/// conflict (add, like a hook program).
void add_probes(std::vector<BpfProgram>& probes, const model::L3afBpfPrograms& e, std::size_t idx,
                bool upsert, std::vector<ErrorItem>& conflicts) {
  if (!e.bpf_programs || !e.bpf_programs->probes) return;
  const auto& list = *e.bpf_programs->probes;
  for (std::size_t k = 0; k < list.size(); ++k) {
    const auto& p = list[k];
    if (p.admin_status != "enabled") continue;
    auto it = std::find_if(probes.begin(), probes.end(),
                           [&](const BpfProgram& q) { return q.name == p.name; });
    if (it == probes.end()) {
      probes.push_back(p);
    } else if (!(*it == p)) {
      if (upsert) {
        *it = p;
      } else {
        conflicts.push_back(ErrorItem{
            .iface = e.iface,
            .program = p.name,
            .field = "/" + std::to_string(idx) + "/bpf_programs/probes/" + std::to_string(k),
            .message = "failed to add probe " + p.name +
                       ": a probe of that name with another "
                       "definition is running (update replaces it)"});
      }
    }
  }
}

}  // namespace

DesiredState desired_from(const AppliedState& s) {
  DesiredState d;
  for (const auto& [name, rec] : s.ifaces) {
    auto& di = d.ifaces[name];
    di.ipv4_address = rec.ipv4_address;
    for (const auto& [h, progs] : rec.hooks) {
      for (const auto& r : progs) di.hooks[h].push_back(r.spec);
    }
  }
  for (const auto& r : s.probes) d.probes.push_back(r.spec);
  return d;
}

Result<DesiredState> with_added(DesiredState base, const model::ValidPrograms& req, bool chaining) {
  std::vector<ErrorItem> conflicts;
  const auto& entries = req.entries();
  for (std::size_t idx = 0; idx < entries.size(); ++idx) {
    const auto& e = entries[idx];
    add_probes(base.probes, e, idx, false, conflicts);
    auto& di = base.ifaces[e.iface];
    di.ipv4_address = e.ipv4_address;  // add merges the interface table (D1)
    for (Hook h : model::kAllHooks) {
      for (const auto& p : enabled_programs(e, idx, h, chaining, conflicts)) {
        auto& list = di.hooks[h];
        if (chaining) {
          add_chained(list, p, e.iface, h, conflicts);
        } else {
          add_direct(list, p, e.iface, h, conflicts);
        }
      }
    }
  }
  return checked(std::move(base), std::move(conflicts), chaining);
}

Result<DesiredState> from_update(const model::ValidPrograms& req, bool chaining,
                                 std::vector<BpfProgram> probes_now) {
  DesiredState d;
  d.probes = std::move(probes_now);
  std::vector<ErrorItem> conflicts;
  const auto& entries = req.entries();
  for (std::size_t idx = 0; idx < entries.size(); ++idx) {
    const auto& e = entries[idx];
    add_probes(d.probes, e, idx, true, conflicts);
    auto& di = d.ifaces[e.iface];
    di.ipv4_address = e.ipv4_address;
    for (Hook h : model::kAllHooks) {
      auto list = enabled_programs(e, idx, h, chaining, conflicts);
      if (!list.empty()) {
        di.hooks[h] = std::move(list);
      } else if (e.bpf_programs) {
        di.hooks.erase(h);
      }
    }
  }
  return checked(std::move(d), std::move(conflicts), chaining);
}

Result<DesiredState> without(DesiredState base, const model::ValidNames& req, bool chaining) {
  for (const auto& e : req.entries()) {
    if (e.bpf_programs && e.bpf_programs->probes) {
      const auto& names = *e.bpf_programs->probes;
      std::erase_if(base.probes, [&](const BpfProgram& p) {
        return std::find(names.begin(), names.end(), p.name) != names.end();
      });
    }
    auto it = base.ifaces.find(e.iface);
    if (it == base.ifaces.end() || !e.bpf_programs) continue;  // idempotent: nothing to delete
    for (Hook h : model::kAllHooks) {
      const auto& names = e.bpf_programs->of(h);
      auto hit = it->second.hooks.find(h);
      if (!names || hit == it->second.hooks.end()) continue;
      std::erase_if(hit->second, [&](const BpfProgram& p) {
        return std::find(names->begin(), names->end(), p.name) != names->end();
      });
      if (hit->second.empty()) it->second.hooks.erase(hit);
    }
  }
  return checked(std::move(base), {}, chaining);
}

Status check_chain_shapes(const DesiredState& d, bool chaining) {
  if (!chaining) return ok();
  std::vector<ErrorItem> bad;
  for (const auto& [iface, di] : d.ifaces) {
    for (const auto& [h, list] : di.hooks) {
      if (auto st = chain::check_length(list.size()); !st) {
        bad.push_back(item(iface, h, "", "", st.error().message));
        continue;
      }
      check_map_names(iface, h, list, bad);
    }
  }
  if (bad.empty()) return ok();
  return fail(combined(Errc::InvalidPayload, std::move(bad)));
}

}  // namespace l3afd::engine
