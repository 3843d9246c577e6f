#include "engine/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "core/log.h"
#include "engine/failure.h"
#include "engine/plan_builder.h"
#include "engine/plan_runner.h"
#include "engine/tracing.h"
#include "model/validated.h"

namespace l3afd::engine {

namespace {

/// The plan at info (summary) and debug (every step), exactly as it will run.
void log_plan(const Plan& plan, bool dry_run) {
  spdlog::info("{} plan: {} step(s), {} release step(s)",
               dry_run ? "dry run, not applying" : "applying", plan.steps.size(),
               plan.release.size());
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    spdlog::debug("  step {}/{} '{}': {}", i + 1, plan.steps.size(), plan.steps[i].label,
                  describe(plan.steps[i].forward));
  }
  for (std::size_t i = 0; i < plan.release.size(); ++i) {
    spdlog::debug("  release {}/{} '{}': {}", i + 1, plan.release.size(), plan.release[i].label,
                  describe(plan.release[i].forward));
  }
}

/// The command's name in the op_start/op_done probes (docs/tracing.md).
std::string_view command_kind(const Command& cmd) {
  static constexpr std::string_view kNames[] = {"add",          "update",           "delete",
                                                "restore",      "stop_all",         "retry_pending",
                                                "check_health", "pause_supervision"};
  static_assert(std::size(kNames) == std::variant_size_v<Command>, "one name per command");
  return kNames[cmd.index()];
}

}  // namespace

Engine::Engine(EngineConfig cfg, kernel::Kernel& kernel, PackageSource& packages, StateStore& store,
               OwnershipJournal* journal, Companions* companions)
    : cfg_(std::move(cfg)),
      kernel_(kernel),
      packages_(packages),
      prefetching_(packages),
      planner_(cfg_.planner),
      executor_(Effects{kernel, prefetching_, store, companions, cfg_.one_shot_timeout}),
      journal_(journal),
      companions_(companions),
      companion_table_(cfg_.restart_limits),
      program_health_(cfg_.restart_limits) {
  if (companions_ != nullptr) {
    // Called on the supervisor's thread: only queue the event (docs/architecture.md §7).
    companions_->on_exit([this](CompanionExit e) {
      {
        std::lock_guard lk(q_mu_);
        exits_.push_back(std::move(e));
      }
      q_cv_.notify_one();
    });
  }
  publish();
}

Engine::~Engine() {
  stop();
}

void Engine::start() {
  next_program_check_ = std::chrono::steady_clock::now() + cfg_.health_interval;
  thread_ = std::thread([this] { loop(); });
}

void Engine::stop() {
  {
    std::lock_guard lk(q_mu_);
    stopping_ = true;
  }
  q_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  release_due(true);
}

std::vector<OwnedInstance> Engine::owned_now() const {
  auto out = merge_owned(owned_by(applied_), inherited_);
  for (const auto& r : retiring_) out = merge_owned(out, r.owned);
  return out;
}

Status Engine::record_owned(const std::vector<OwnedInstance>& extra) {
  if (journal_ == nullptr) return ok();
  return journal_->record(merge_owned(owned_now(), extra));
}

Status Engine::settle_owned() {
  inherited_.clear();
  return record_owned();
}

void Engine::inherit_counters(const ProgramCounters& previous) {
  const auto add = [](CounterSeries& into, const CounterSeries& from) {
    for (const auto& [labels, n] : from) into[labels] += n;
  };
  add(counters_.start, previous.start);
  add(counters_.stop, previous.stop);
  add(counters_.update, previous.update);
  add(counters_.update_failed, previous.update_failed);
  add(counters_.deploy_failed, previous.deploy_failed);
  // A start this process made is the latest one.
  for (const auto& [labels, t] : previous.start_time) counters_.start_time.emplace(labels, t);
  publish();
}

void Engine::release_due(bool all) {
  if (paused_ && !all) return;
  const auto now = std::chrono::steady_clock::now();
  while (!retiring_.empty() && (all || retiring_.front().due <= now)) {
    // Releasing removes pins: under the change lock (docs/chain-protocol.md §7), taken per batch
    // and never held while waiting for the grace period. A batch that cannot get the lock waits
    // for the next turn; at shutdown it is released anyway.
    auto lock = lock_change("release");
    if (!lock) {
      spdlog::error("release postponed: {}", lock.error().to_string());
      if (!all) return;
    }
    auto steps = std::move(retiring_.front().steps);
    retiring_.pop_front();
    // A package released here may have been fetched again by a later change: keep it.
    std::erase_if(steps, [this](const Step& st) {
      const auto* rp = std::get_if<RemovePackage>(&st.forward);
      return rp != nullptr && applied_.uses_package(rp->ref.name, rp->ref.version);
    });
    run_release(steps, executor_);
    if (auto st = record_owned(); !st) spdlog::error("after release: {}", st.error().to_string());
  }
}

Result<kernel::ChangeLock> Engine::lock_change(const char* what) {
  auto lock = kernel_.lock_for_change();
  if (!lock)
    return fail(std::move(lock.error()).with_context(std::string("lock bpffs for ") + what));
  return lock;
}

PrefetchResults Engine::fetch_ahead(const Command& cmd) {
  const std::vector<model::L3afBpfPrograms>* entries = nullptr;
  if (const auto* a = std::get_if<AddPrograms>(&cmd); a != nullptr && !a->dry_run) {
    entries = &a->entries;
  } else if (const auto* u = std::get_if<UpdatePrograms>(&cmd); u != nullptr && !u->dry_run) {
    entries = &u->entries;
  }
  if (entries == nullptr) return {};
  // Only what validates is fetched: a bad payload never makes the daemon download anything.
  // (validation_context(false) reads only the immutable config: safe off the engine thread.)
  if (!model::validate_programs(*entries, validation_context(false))) return {};
  const auto refs = packages_of(*entries, cfg_.planner);
  if (refs.empty()) return {};
  const auto start = std::chrono::steady_clock::now();
  auto results = prefetch(packages_, refs);
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  spdlog::debug("prefetch packages={} duration_ms={:.2f}", refs.size(), took.count());
  return results;
}

void Engine::drop_unused_prefetched() {
  for (const auto& ref : prefetching_.take_unused()) {
    if (applied_.uses_package(ref.name, ref.version)) continue;
    if (auto st = packages_.remove(ref); !st) {
      spdlog::warn("remove unused package {}@{}: {}", ref.name, ref.version,
                   st.error().to_string());
    }
  }
}

std::future<Status> Engine::submit(Command cmd, std::string request_id) {
  std::promise<Status> p;
  auto f = p.get_future();
  PrefetchResults prefetched;
  {
    log::RequestScope scope(request_id);
    prefetched = fetch_ahead(cmd);
  }
  {
    std::lock_guard lk(q_mu_);
    if (stopping_) {
      p.set_value(fail(Errc::Unavailable, "the daemon is shutting down"));
      return f;
    }
    queue_.push_back(
        Queued{std::move(cmd), std::move(p), std::move(request_id), std::move(prefetched)});
  }
  q_cv_.notify_one();
  return f;
}

std::shared_ptr<const Snapshot> Engine::snapshot() const {
  std::lock_guard lk(snap_mu_);
  return published_;
}

Status Engine::run_now(const Command& cmd) {
  return execute(cmd);
}

std::optional<std::chrono::steady_clock::time_point> Engine::next_deadline() const {
  // Paused: no timer fires (no busy wait on a due restart); releases wait too, so the successor
  // sees the pins of retired instances as they were (its residue sweep removes them).
  if (paused_) return std::nullopt;
  auto best = companion_table_.next_deadline();
  if (companion_table_.has_status_commands() && (!best || next_health_ < *best)) {
    best = next_health_;
  }
  if (!retiring_.empty() && (!best || retiring_.front().due < *best)) best = retiring_.front().due;
  if (!program_health_.empty()) {
    // The health timer: the poll interval, redeploys and healthy resets of programs.
    if (!best || next_program_check_ < *best) best = next_program_check_;
    if (auto t = program_health_.next_deadline(); t && (!best || *t < *best)) best = t;
  }
  return best;
}

void Engine::loop() {
  for (;;) {
    std::optional<Queued> item;
    std::deque<CompanionExit> exits;
    {
      std::unique_lock lk(q_mu_);
      auto ready = [this] { return stopping_ || !queue_.empty() || !exits_.empty(); };
      // retiring_ and the companion table are touched only by this thread, so reading them
      // under q_mu_ is safe.
      for (auto due = next_deadline(); !ready() && due; due = next_deadline()) {
        if (q_cv_.wait_until(lk, *due, ready)) break;
        lk.unlock();
        release_due(false);
        supervise_due();
        lk.lock();
      }
      q_cv_.wait(lk, ready);
      exits.swap(exits_);
      if (queue_.empty() && stopping_) return;  // stopping and drained
      if (!queue_.empty()) {
        item.emplace(std::move(queue_.front()));
        queue_.pop_front();
        if (std::holds_alternative<CheckHealth>(item->cmd)) health_queued_ = false;
      }
    }
    if (!exits.empty()) handle_exits(std::move(exits));
    release_due(false);
    supervise_due();
    if (!item) continue;
    Status st;
    {
      const log::RequestScope scope(std::move(item->request_id));
      prefetching_.install(std::move(item->prefetched));
      try {
        st = execute(item->cmd);
      } catch (const std::exception& e) {
        st = fail(Errc::Internal, std::string("engine: unexpected exception: ") + e.what());
      }
      drop_unused_prefetched();
    }
    item->done.set_value(std::move(st));
  }
}

void Engine::handle_exits(std::deque<CompanionExit> exits) {
  bool changed = false;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& e : exits) changed = companion_table_.exited(e, now) || changed;
  if (changed) publish();
}

bool Engine::check_health(std::chrono::steady_clock::time_point now) {
  if (companions_ == nullptr || now < next_health_) return false;
  next_health_ = now + cfg_.health_interval;
  bool changed = false;
  for (const auto& [id, status] : companion_table_.status()) {
    const CompanionRequest* req = companion_table_.request(id);
    if (!status.running || req == nullptr || req->program.cmd_status.empty()) continue;
    auto up = companions_->running(*req);
    if (!up || *up) continue;
    spdlog::warn("companion {} of {}: {} does not report RUNNING; restarting it",
                 req->program.cmd_start, id, req->program.cmd_status);
    const CompanionRequest copy = *req;
    if (auto st = companions_->stop(copy); !st && st.error().code != Errc::NotFound) {
      spdlog::error("stop of unhealthy companion {}: {}", id, st.error().to_string());
    }
    changed = companion_table_.exited(CompanionExit{.id = id, .code = -1}, now) || changed;
  }
  return changed;
}

void Engine::supervise_due() {
  if (paused_) return;  // PauseSupervision: the successor adopts what it sees, unchanged
  const auto now = std::chrono::steady_clock::now();
  bool changed = companion_table_.settle(now);
  changed = program_health_.settle(now) || changed;
  changed = check_health(now) || changed;
  for (const auto& id : companion_table_.due(now)) {
    restart_companion(id);
    changed = true;
  }
  if (changed) publish();
  post_health_check(now);
}

void Engine::post_health_check(std::chrono::steady_clock::time_point now) {
  if (program_health_.empty()) return;
  const bool poll = now >= next_program_check_;
  if (!poll && program_health_.due(now).empty()) return;
  if (poll) next_program_check_ = now + cfg_.health_interval;
  std::lock_guard lk(q_mu_);
  if (health_queued_ || stopping_) return;
  // A command like any other: it runs between requests, never during one, so a program being
  // deployed is never checked half-built.
  queue_.push_back(Queued{CheckHealth{}, {}, {}, {}});
  health_queued_ = true;
}

Status Engine::handle(const PauseSupervision& c) {
  if (paused_ == c.paused) return ok();
  paused_ = c.paused;
  if (paused_) {
    spdlog::info("supervision paused (graceful restart in progress)");
  } else {
    spdlog::info("supervision resumed");
    // Whatever happened meanwhile is looked at now, not after a whole poll interval.
    next_health_ = {};
    next_program_check_ = {};
    supervise_due();
  }
  return ok();
}

Status Engine::handle(const CheckHealth&) {
  if (paused_) return ok();
  bool changed = check_interfaces();
  auto now = std::chrono::steady_clock::now();
  for (const auto& [id, key] : program_health_.watched()) {
    // On an interface that is gone the kernel detached everything: that is interface drift
    // (handled above, reported down without a restart), not a lost program.
    const auto slash = id.find('/');
    if (slash != std::string::npos && ifaces_gone_.contains(id.substr(0, slash))) continue;
    if (kernel_.program_loaded(key)) continue;
    // The kernel detaches an interface's programs while it unregisters it, a moment before its
    // name stops resolving: found detached on an interface that is gone (or back with another
    // index) by now, it is interface drift for the next check, not a lost program.
    if (slash != std::string::npos && interface_drifted(id.substr(0, slash))) continue;
    changed = program_health_.lost(id, now) || changed;
  }
  for (const auto& [id, key] : program_health_.due(now)) {
    const bool ok = redeploy(id, key);
    now = std::chrono::steady_clock::now();
    program_health_.redeployed(id, ok, now);
    changed = true;
  }
  if (changed) publish();
  return ok();
}

bool Engine::interface_drifted(const std::string& name) {
  const auto it = applied_.ifaces.find(name);
  if (it == applied_.ifaces.end()) return false;
  uint32_t recorded = 0;
  for (const auto& [h, list] : it->second.hooks) {
    for (const auto& r : list) {
      if (r.attach.ifindex != 0) recorded = r.attach.ifindex;
    }
  }
  for (const auto& [h, root] : it->second.roots) {
    if (root.attach.ifindex != 0) recorded = root.attach.ifindex;
  }
  if (recorded == 0) return false;
  auto cur = kernel_.interface(name);
  if (!cur) return cur.error().code == Errc::NotFound;
  return cur->ifindex != recorded;
}

bool Engine::check_interfaces() {
  std::set<std::string> gone;
  std::map<std::string, std::set<std::string>> stale;  // iface -> keys attached to an old index
  for (const auto& [name, rec] : applied_.ifaces) {
    std::optional<uint32_t> now_index;
    bool missing = false;
    auto consider = [&](const ProgramRecord& r) {
      if (r.object_key.empty() || r.attach.ifindex == 0 || missing) return;
      if (!now_index) {
        auto cur = kernel_.interface(name);
        if (!cur) {
          // Another error (a failed ioctl) says nothing about the interface: ask again later.
          missing = cur.error().code == Errc::NotFound;
          if (!missing) spdlog::debug("interface check of {}: {}", name, cur.error().to_string());
          now_index = 0;
          return;
        }
        now_index = cur->ifindex;
      }
      if (*now_index != 0 && *now_index != r.attach.ifindex) stale[name].insert(r.object_key);
    };
    for (const auto& [h, list] : rec.hooks) {
      for (const auto& r : list) consider(r);
    }
    for (const auto& [h, root] : rec.roots) consider(root);
    if (missing) {
      gone.insert(name);
      if (!ifaces_gone_.contains(name)) {
        spdlog::warn(
            "interface {} was deleted: its programs are not attached any more "
            "(reported not running); they are attached again when it is created again",
            name);
      }
    }
  }
  for (auto& [name, keys] : stale) {
    spdlog::warn("interface {} was created again (new ifindex): re-attaching {} program(s)", name,
                 keys.size());
    if (!reattach(name, std::move(keys))) gone.insert(name);
  }
  ifaces_gone_ = std::move(gone);
  const bool changed = program_health_.set_gone_interfaces(ifaces_gone_);
  if (changed) publish();
  return changed || !stale.empty();
}

bool Engine::reattach(const std::string& iface, std::set<std::string> keys) {
  // With chaining the keys are the hooks' roots: each such hook is rebuilt behind a new root
  // (tail_call_chain.cpp), which goes live last, already pointing at the complete chain.
  PlanOptions opts = commit_options();
  opts.rebuild = std::move(keys);
  auto st = apply(planner_.transition(applied_, desired_from(applied_), opts));
  if (!st) {
    spdlog::error(
        "interface {}: re-attach failed and was rolled back (tried again at the next "
        "health check): {}",
        iface, st.error().to_string());
    count_failed(st.error(), false);
    return false;
  }
  spdlog::info("interface {}: programs re-attached", iface);
  return true;
}

bool Engine::redeploy(const std::string& id, const std::string& object_key) {
  spdlog::warn("health check: redeploying program {} (instance {} is not loaded)", id, object_key);
  PlanOptions opts = commit_options();
  opts.rebuild = {object_key};
  auto st = apply(planner_.transition(applied_, desired_from(applied_), opts));
  if (!st) {
    spdlog::error("health check: redeploy of program {} failed and was rolled back: {}", id,
                  st.error().to_string());
    count_failed(st.error(), false);
    return false;
  }
  // The plan stopped the program's supervised companion and started it again: its supervision
  // goes on from "running" (a restart it had scheduled is dropped).
  if (companion_table_.request(id) != nullptr) {
    companion_table_.restarted(id, true, std::chrono::steady_clock::now());
    publish();
  }
  spdlog::info("health check: program {} redeployed", id);
  return true;
}

void Engine::restart_companion(const std::string& id, bool claim) {
  const CompanionRequest* known = companion_table_.request(id);
  if (known == nullptr || companions_ == nullptr) return;
  CompanionRequest req = *known;
  const auto now = std::chrono::steady_clock::now();
  if (is_self_loading(req.program) && cfg_.chaining) {
    // The program in the chain keeps running; the binary gets a fresh staging array to write
    // its new program into, which is never chained (its maps and next array are the pinned
    // ones, shared by name).
    auto lock = lock_change("a companion restart");
    if (!lock) {
      spdlog::error("restart of companion {}: {}", id, lock.error().to_string());
      companion_table_.restarted(id, false, now);
      return;
    }
    if (auto old = companion_table_.take_staging(id)) (void)kernel_.remove_staging(*old);
    std::filesystem::path dir;
    for (const auto& [iface, rec] : applied_.ifaces) {
      for (const auto& [h, list] : rec.hooks) {
        for (const auto& r : list) {
          if (companion_id(iface, h, r.spec) == id) dir = r.paths.map_dir;
        }
      }
    }
    const auto pin = dir / "l3afd_staging_restart";
    (void)kernel_.remove_staging(pin);
    if (auto st = kernel_.create_staging(pin); !st) {
      spdlog::error("restart of companion {}: {}", id, st.error().to_string());
      companion_table_.restarted(id, false, now);
      return;
    }
    companion_table_.set_staging(id, pin);
    req.map_name = pin;
  }
  auto p = companions_->start(req);
  if (!p && claim && p.error().code == Errc::Conflict) {
    // Started by this run's restore plan already: nothing to claim.
    if (auto pin = companion_table_.take_staging(id)) (void)kernel_.remove_staging(*pin);
    return;
  }
  if (!p) {
    spdlog::error("restart of companion {} failed: {}", id, p.error().to_string());
  } else {
    spdlog::info("companion {} of {} {} (pid {})", req.program.cmd_start, id,
                 p->adopted ? "adopted from the previous run" : "restarted", p->pid);
  }
  companion_table_.restarted(id, static_cast<bool>(p), now);
}

void Engine::ensure_companions() {
  if (companions_ == nullptr) return;
  for (const auto& [id, status] : companion_table_.status()) restart_companion(id, true);
  publish();
}

void Engine::publish() {
  for (const auto& pin : companion_table_.sync(applied_, std::chrono::steady_clock::now())) {
    if (auto st = kernel_.remove_staging(pin); !st) {
      spdlog::warn("remove staging array {}: {}", pin.string(), st.error().to_string());
    }
  }
  program_health_.sync(applied_, std::chrono::steady_clock::now());
  auto snap = std::make_shared<Snapshot>(Snapshot{
      applied_, pending_, companion_table_.status(), program_health_.status(), counters_, {}});
  std::shared_ptr<const Snapshot> previous;
  {
    std::lock_guard lk(snap_mu_);
    previous = published_;
  }
  snap->monitor_readers = monitor_readers(previous.get());
  std::lock_guard lk(snap_mu_);
  published_ = std::move(snap);
}

std::map<std::pair<std::string, std::string>, std::shared_ptr<const kernel::MapReader>>
Engine::monitor_readers(const Snapshot* previous) {
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const kernel::MapReader>> out;
  auto want = [&](const model::BpfProgram& spec, const std::string& object_key) {
    if (object_key.empty() || !spec.monitor_maps) return;
    for (const auto& m : *spec.monitor_maps) {
      std::pair<std::string, std::string> where{object_key, m.name};
      if (out.contains(where)) continue;
      if (previous != nullptr) {  // an object key names one load: its readers stay valid
        if (auto it = previous->monitor_readers.find(where);
            it != previous->monitor_readers.end()) {
          out.emplace(where, it->second);
          continue;
        }
      }
      auto r = kernel_.map_reader(object_key, m.name);
      if (!r) {
        spdlog::warn("monitor_maps: no reader for map {} of {}: {}", m.name, spec.name,
                     r.error().to_string());
        continue;
      }
      out.emplace(std::move(where), std::move(*r));
    }
  };
  for (const auto& [iface, rec] : applied_.ifaces) {
    for (const auto& [hook, list] : rec.hooks) {
      for (const auto& r : list) want(r.spec, r.object_key);
    }
  }
  for (const auto& p : applied_.probes) want(p.spec, p.object_key);
  return out;
}

model::ValidationContext Engine::validation_context(bool check_ifaces) const {
  model::ValidationContext ctx;
  ctx.host_name = cfg_.planner.host_name;
  ctx.chaining = cfg_.chaining;
  ctx.root_names = cfg_.root_names;
  ctx.companions = companions_ != nullptr;
  if (check_ifaces) {
    ctx.iface_state = [this](const std::string& name) {
      auto i = kernel_.interface(name);
      if (!i) return model::IfaceState::Missing;
      return i->loopback ? model::IfaceState::Loopback : model::IfaceState::Ok;
    };
  }
  return ctx;
}

PlanOptions Engine::commit_options(const PinnedLinks* adopt) const {
  return PlanOptions{.commit = true, .extra_store_entries = pending_, .adopt = adopt};
}

Status Engine::apply(Result<Plan> plan, const std::shared_ptr<PlanPreview>& dry_run) {
  if (!plan) return fail(std::move(plan.error()));
  if (dry_run) {
    log_plan(*plan, true);
    *dry_run = PlanPreview{plan->steps, plan->release};
    return ok();
  }
  if (plan->empty()) return ok();
  log_plan(*plan, false);
  // The whole change runs under the bpffs change lock (docs/chain-protocol.md §7); it is given back
  // before the releases, which take it per batch.
  auto lock = lock_change("the change");
  if (!lock) {
    Error e = std::move(lock.error());
    e.step = "lock bpffs";  // before step 1: nothing was done
    return fail(std::move(e));
  }
  // Intent before effect: every instance the plan may create is recorded before the kernel is
  // touched, so a crash at any later instant leaves nothing the sweep cannot prove is ours.
  if (auto st = record_owned(owned_by(plan->next)); !st) {
    Error e = std::move(st.error()).with_context("record intent");
    e.step = "record intent";  // before step 1: nothing was done
    return fail(std::move(e));
  }
  auto outputs = run_plan(plan->steps, executor_);
  if (!outputs) {
    // The program the failed step worked for, for l3afd_BPFDeployFailedCount when the error
    // names no item (a kernel error).
    for (const auto& st : plan->steps) {
      if (st.label == outputs.error().step) failed_subject_ = st.subject;
    }
    if (auto st = record_owned(); !st) spdlog::error("after rollback: {}", st.error().to_string());
    return fail(std::move(outputs.error()));
  }
  auto release = std::move(plan->release);
  const auto before = owned_by(applied_);
  const auto fills = plan->fills;
  const auto probe_fills = plan->probe_fills;
  count_updates(counters_, plan->steps, plan->next);
  AppliedState previous = std::move(applied_);
  applied_ = complete(std::move(*plan), *outputs);
  count_starts(counters_, applied_, fills, probe_fills,
               std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count());
  count_stops(counters_, previous, applied_);
  publish();
  if (!release.empty()) {
    std::vector<OwnedInstance> leaving;
    const auto after = owned_by(applied_);
    std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                        std::back_inserter(leaving));
    retiring_.push_back({std::chrono::steady_clock::now() + cfg_.retire_grace, std::move(release),
                         std::move(leaving)});
  }
  if (auto st = record_owned(); !st) spdlog::error("after commit: {}", st.error().to_string());
  *lock = kernel::ChangeLock{};
  release_due(cfg_.retire_grace.count() == 0);
  return ok();
}

Status Engine::execute(const Command& cmd) {
  const auto kind = command_kind(cmd);
  const auto start = std::chrono::steady_clock::now();
  trace_op_start(kind);
  Status st = std::visit([this](const auto& c) { return handle(c); }, cmd);
  trace_op_done(kind, static_cast<bool>(st), std::chrono::steady_clock::now() - start);
  return st;
}

void Engine::count_failed(const Error& e, bool dry_run) {
  if (dry_run) return;
  struct Clear {
    std::optional<ErrorItem>& s;
    ~Clear() { s.reset(); }
  } clear{failed_subject_};
  // Payload errors are the client's; a host or interface mismatch and a failed step are
  // deployments that failed (docs/compatibility.md §13).
  if (e.code == Errc::InvalidJson || e.code == Errc::InvalidPayload || e.code == Errc::Conflict) {
    if (e.step.empty()) return;
  }
  Error counted = e;
  if (counted.items.empty() && failed_subject_) counted.items.push_back(*failed_subject_);
  failed_subject_.reset();
  count_failure(counters_, counted, applied_);
  publish();
}

Status Engine::handle(const AddPrograms& c) {
  auto valid = model::accept_programs(c.entries, validation_context(true));
  if (!valid) {
    count_failed(valid.error(), c.dry_run != nullptr);
    return fail(std::move(valid.error()));
  }
  auto st = apply(planner_.add(applied_, *valid, commit_options()), c.dry_run);
  if (!st) {
    locate(st.error(), c.entries);
    count_failed(st.error(), c.dry_run != nullptr);
  }
  return st;
}

Status Engine::handle(const UpdatePrograms& c) {
  auto valid = model::accept_programs(c.entries, validation_context(true));
  if (!valid) {
    count_failed(valid.error(), c.dry_run != nullptr);
    return fail(std::move(valid.error()));
  }
  auto saved = std::exchange(pending_, {});  // update is declarative: it replaces pending too
  auto st = apply(planner_.update(applied_, *valid, commit_options()), c.dry_run);
  if (!st || c.dry_run) pending_ = std::move(saved);
  if (!st) {
    locate(st.error(), c.entries);
    count_failed(st.error(), c.dry_run != nullptr);
  }
  publish();
  return st;
}

Status Engine::handle(const DeletePrograms& c) {
  auto valid = model::accept_names(c.entries, validation_context(false));
  if (!valid) return fail(std::move(valid.error()));
  return apply(planner_.remove(applied_, *valid, commit_options()), c.dry_run);
}

Status Engine::handle(const RestoreState& c) {
  auto st = apply_entries(c.entries, &c.pinned_links);
  ensure_companions();
  return st;
}

Status Engine::handle(const RetryPending&) {
  if (pending_.empty()) return ok();
  return apply_entries(std::exchange(pending_, {}), nullptr);
}

Status Engine::handle(const StopAll&) {
  // Everything detached and unloaded; the store keeps the programs for the next start (§1.3).
  auto st = apply(planner_.transition(applied_, DesiredState{}, PlanOptions{.commit = false}));
  release_due(true);  // shutting down: nothing runs after this
  return st;
}

Status Engine::apply_entries(const std::vector<model::L3afBpfPrograms>& entries,
                             const PinnedLinks* adopt) {
  const bool restoring = adopt != nullptr;
  std::vector<model::L3afBpfPrograms> now;
  for (auto e : entries) {
    // A store written by l3afd v2.1.0 may hold any text as ipv4_address (it was never
    // validated). Such a value is dropped with a warning rather than keeping the interface's
    // programs pending forever; the commit then stores it empty.
    if (auto why = model::ipv4_address_problem(e.ipv4_address); restoring && !why.empty()) {
      spdlog::warn("restore: iface={} ipv4_address cleared: {}", e.iface, why);
      e.ipv4_address.clear();
    }
    if (auto v = model::validate_programs({e}, validation_context(true)); !v) {
      if (restoring) {
        spdlog::warn("restore: keeping interface {} pending: {}", e.iface, v.error().to_string());
      } else {
        spdlog::debug("interface {} still pending: {}", e.iface, v.error().to_string());
      }
      pending_.push_back(e);
    } else {
      now.push_back(e);
    }
  }
  // One plan per interface: an entry that cannot be applied stays pending (kept in the store,
  // its pins left alone) without holding back the others.
  Status result = ok();
  for (const auto& e : now) {
    if (restoring && cfg_.planner.chaining) adopt_live_chains(e, *adopt);
    if (restoring && !cfg_.planner.chaining) adopt_live_direct(e, *adopt);
    if (restoring) adopt_live_probes(e);
    auto valid = model::accept_programs({e}, validation_context(true));
    auto st = valid ? apply(planner_.add(applied_, *valid, commit_options(adopt)))
                    : Status(fail(std::move(valid.error())));
    if (!st) {
      spdlog::error("restore of interface {} failed, kept pending: {}", e.iface,
                    st.error().to_string());
      pending_.push_back(e);
      if (result) result = std::move(st);
    }
  }
  publish();
  return result;
}

}  // namespace l3afd::engine
