#include "engine/companions.h"

#include <spdlog/spdlog.h>

#include "engine/plan_builder.h"
#include "layout/bpffs_layout.h"

namespace l3afd::engine {

using model::BpfProgram;
using model::Hook;

std::string companion_id(const std::string& iface, Hook h, const BpfProgram& p) {
  return iface + "/" + std::string(model::direction(h)) + "/" + p.name + "/" +
         layout::version_dir(p.version);
}

bool has_daemon_companion(const BpfProgram& p) {
  return !p.cmd_start.empty() && p.user_program_daemon;
}

bool is_self_loading(const BpfProgram& p) {
  return p.object_file.empty();
}

std::string pin_entry(const BpfProgram& p) {
  return is_self_loading(p) ? std::string(kSelfLoadedEntry) : p.entry_function_name;
}

CompanionRequest companion_request_of(const std::string& iface, Hook h, const BpfProgram& p,
                                      const std::filesystem::path& package_dir) {
  CompanionRequest r;
  r.id = companion_id(iface, h, p);
  r.package_dir = package_dir;
  r.iface = iface;
  r.direction = std::string(model::direction(h));
  r.version_dir = p.version.empty() ? std::string() : layout::version_dir(p.version);
  r.program = p;
  return r;
}

std::vector<std::filesystem::path> CompanionTable::sync(const AppliedState& s,
                                                        Clock::time_point now) {
  std::map<std::string, CompanionRequest> wanted;
  for (const auto& [iface, rec] : s.ifaces) {
    for (const auto& [h, list] : rec.hooks) {
      for (const auto& r : list) {
        if (!has_daemon_companion(r.spec)) continue;
        CompanionRequest req = companion_request_of(iface, h, r.spec, r.package_dir);
        wanted.emplace(req.id, std::move(req));
      }
    }
  }
  std::vector<std::filesystem::path> drop;
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto w = wanted.find(it->first);
    // The same companion (only fields applied in place changed, so the plan neither stopped
    // nor started it): its supervision state stays, down or given up included.
    if (w != wanted.end() && w->second.package_dir == it->second.request.package_dir &&
        differs_only_in_place(it->second.request.program, w->second.program, true)) {
      it->second.request = w->second;
      ++it;
      continue;
    }
    if (it->second.staging) drop.push_back(*it->second.staging);
    it = entries_.erase(it);
  }
  for (auto& [id, req] : wanted) {
    if (entries_.contains(id)) continue;
    Entry e{.request = std::move(req), .policy = RestartPolicy(limits_)};
    e.policy.started(now);
    entries_.emplace(id, std::move(e));
  }
  return drop;
}

bool CompanionTable::exited(const CompanionExit& x, Clock::time_point now) {
  auto it = entries_.find(x.id);
  if (it == entries_.end()) return false;
  Entry& e = it->second;
  e.running = false;
  const auto delay = e.policy.on_exit(now);
  if (!delay) {
    e.restart_at.reset();
    spdlog::error(
        "companion {} of {} exited ({} {}) and is not restarted again: {} restarts in a row "
        "reached max-ebpf-restart-count",
        e.request.program.cmd_start, x.id, x.signaled ? "signal" : "status", x.code,
        e.policy.consecutive());
    return true;
  }
  e.restart_at = now + *delay;
  spdlog::warn("companion {} of {} exited ({} {}); restart {} in {} ms",
               e.request.program.cmd_start, x.id, x.signaled ? "signal" : "status", x.code,
               e.policy.consecutive(), delay->count());
  return true;
}

std::vector<std::string> CompanionTable::due(Clock::time_point now) const {
  std::vector<std::string> out;
  for (const auto& [id, e] : entries_) {
    if (e.restart_at && *e.restart_at <= now) out.push_back(id);
  }
  return out;
}

std::optional<CompanionTable::Clock::time_point> CompanionTable::next_deadline() const {
  std::optional<Clock::time_point> best;
  auto consider = [&](std::optional<Clock::time_point> t) {
    if (t && (!best || *t < *best)) best = t;
  };
  for (const auto& [id, e] : entries_) {
    consider(e.restart_at);
    if (e.running) consider(e.policy.settles_at());
  }
  return best;
}

bool CompanionTable::settle(Clock::time_point now) {
  bool changed = false;
  for (auto& [id, e] : entries_) {
    if (e.running && e.policy.settle(now)) {
      spdlog::info("companion of {} healthy again: restart count reset", id);
      changed = true;
    }
  }
  return changed;
}

const CompanionRequest* CompanionTable::request(const std::string& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second.request;
}

void CompanionTable::restarted(const std::string& id, bool ok, Clock::time_point now) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  e.restart_at.reset();
  if (ok) {
    e.running = true;
    e.policy.started(now);
    return;
  }
  exited(CompanionExit{.id = id, .pid = 0, .signaled = false, .code = -1}, now);
}

void CompanionTable::set_staging(const std::string& id, std::filesystem::path pin) {
  if (auto it = entries_.find(id); it != entries_.end()) it->second.staging = std::move(pin);
}

std::optional<std::filesystem::path> CompanionTable::take_staging(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return std::exchange(it->second.staging, std::nullopt);
}

bool CompanionTable::has_status_commands() const {
  for (const auto& [id, e] : entries_) {
    if (!e.request.program.cmd_status.empty()) return true;
  }
  return false;
}

std::map<std::string, CompanionStatus> CompanionTable::status() const {
  std::map<std::string, CompanionStatus> out;
  for (const auto& [id, e] : entries_) {
    out[id] = CompanionStatus{.running = e.running,
                              .restart_count = e.policy.consecutive(),
                              .given_up = e.policy.given_up(),
                              .total_restarts = e.policy.restarts()};
  }
  return out;
}

}  // namespace l3afd::engine
