#include "engine/program_health.h"

#include <spdlog/spdlog.h>

#include "engine/plan_builder.h"

namespace l3afd::engine {

std::string program_health_id(const std::string& object_key) {
  return object_key.substr(0, object_key.rfind('#'));
}

void ProgramHealthTable::sync(const AppliedState& s, Clock::time_point now) {
  struct Wanted {
    const model::BpfProgram* spec;
    std::string key;
    std::string iface;
  };
  std::map<std::string, Wanted> wanted;
  for (const auto& [iface, rec] : s.ifaces) {
    for (const auto& [h, list] : rec.hooks) {
      for (const auto& r : list) {
        if (r.object_key.empty() || is_self_loading(r.spec)) continue;
        wanted.emplace(program_health_id(r.object_key), Wanted{&r.spec, r.object_key, iface});
      }
    }
  }
  for (const auto& p : s.probes) {
    if (!p.object_key.empty()) {
      wanted.emplace(program_health_id(p.object_key), Wanted{&p.spec, p.object_key, ""});
    }
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || !differs_only_in_place(it->second.spec, *w->second.spec, true)) {
      it = entries_.erase(it);  // left, or redefined: a new entry below
      continue;
    }
    Entry& e = it->second;
    e.spec = *w->second.spec;
    if (e.object_key != w->second.key) {
      // Another instance runs now: loaded by this plan, whatever made it.
      e.object_key = w->second.key;
      e.loaded = true;
      e.redeploy_at.reset();
      if (e.policy.given_up()) e.policy = RestartPolicy(limits_);
      e.policy.started(now);
    }
    ++it;
  }
  for (const auto& [id, w] : wanted) {
    if (entries_.contains(id)) continue;
    Entry e{
        .spec = *w.spec, .object_key = w.key, .iface = w.iface, .policy = RestartPolicy(limits_)};
    e.policy.started(now);
    entries_.emplace(id, std::move(e));
  }
}

std::map<std::string, std::string> ProgramHealthTable::watched() const {
  std::map<std::string, std::string> out;
  for (const auto& [id, e] : entries_) {
    if (e.loaded) out.emplace(id, e.object_key);
  }
  return out;
}

bool ProgramHealthTable::lost(const std::string& id, Clock::time_point now) {
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.loaded) return false;
  Entry& e = it->second;
  e.loaded = false;
  const auto delay = e.policy.on_exit(now);
  if (!delay) {
    e.redeploy_at.reset();
    spdlog::error(
        "program {} ({}) is not loaded in the kernel and is not redeployed again: {} restarts "
        "in a row reached max-ebpf-restart-count",
        id, e.object_key, e.policy.consecutive());
    return true;
  }
  e.redeploy_at = now + *delay;
  spdlog::warn("program {} ({}) is not loaded in the kernel; redeploy {} in {} ms", id,
               e.object_key, e.policy.consecutive(), delay->count());
  return true;
}

std::map<std::string, std::string> ProgramHealthTable::due(Clock::time_point now) const {
  std::map<std::string, std::string> out;
  for (const auto& [id, e] : entries_) {
    if (e.redeploy_at && *e.redeploy_at <= now) out.emplace(id, e.object_key);
  }
  return out;
}

void ProgramHealthTable::redeployed(const std::string& id, bool ok, Clock::time_point now) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  e.redeploy_at.reset();
  if (ok) {
    e.loaded = true;
    e.policy.started(now);
    return;
  }
  e.loaded = true;  // so that lost() counts the failed attempt like a loss
  lost(id, now);
}

std::optional<ProgramHealthTable::Clock::time_point> ProgramHealthTable::next_deadline() const {
  std::optional<Clock::time_point> best;
  auto consider = [&](std::optional<Clock::time_point> t) {
    if (t && (!best || *t < *best)) best = t;
  };
  for (const auto& [id, e] : entries_) {
    consider(e.redeploy_at);
    if (e.loaded) consider(e.policy.settles_at());
  }
  return best;
}

bool ProgramHealthTable::settle(Clock::time_point now) {
  bool changed = false;
  for (auto& [id, e] : entries_) {
    if (e.loaded && e.policy.settle(now)) {
      spdlog::info("program {} healthy again: restart count reset", id);
      changed = true;
    }
  }
  return changed;
}

bool ProgramHealthTable::set_gone_interfaces(std::set<std::string> gone) {
  if (gone == gone_ifaces_) return false;
  gone_ifaces_ = std::move(gone);
  return true;
}

std::map<std::string, ProgramHealth> ProgramHealthTable::status() const {
  std::map<std::string, ProgramHealth> out;
  for (const auto& [id, e] : entries_) {
    const bool attached = e.iface.empty() || !gone_ifaces_.contains(e.iface);
    out[id] = ProgramHealth{.loaded = e.loaded && attached,
                            .restart_count = e.policy.consecutive(),
                            .given_up = e.policy.given_up(),
                            .total_restarts = e.policy.restarts()};
  }
  return out;
}

HealthView health_view(const std::map<std::string, CompanionStatus>& companions,
                       const std::map<std::string, ProgramHealth>& programs,
                       const std::string& id) {
  HealthView v;
  if (auto c = companions.find(id); c != companions.end()) {
    v.running = c->second.running;
    v.restart_count += c->second.restart_count;
  }
  if (auto p = programs.find(id); p != programs.end()) {
    v.running = v.running && p->second.loaded;
    v.restart_count += p->second.restart_count;
  }
  return v;
}

}  // namespace l3afd::engine
