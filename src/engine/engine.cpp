#include "engine/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "core/log.h"
#include "engine/plan_runner.h"
#include "model/validate.h"

namespace l3afd::engine {

namespace {

/// Completes error items whose `field` is a bare key ("object_file") into the JSON pointer of
/// that key in the request, by finding the program by interface, direction and name.
void locate(Error& e, const std::vector<model::L3afBpfPrograms>& req) {
  for (auto& item : e.items) {
    if (item.field.empty() || item.field.front() == '/') continue;
    for (std::size_t i = 0; i < req.size(); ++i) {
      if (req[i].iface != item.iface || !req[i].bpf_programs) continue;
      for (model::Hook h : model::kAllHooks) {
        if (model::direction(h) != item.direction) continue;
        const auto& bp = *req[i].bpf_programs;
        const auto& list = bp.of(h);
        if (!list) continue;
        for (std::size_t j = 0; j < list->size(); ++j) {
          if ((*list)[j].name != item.program) continue;
          item.field = "/" + std::to_string(i) + "/bpf_programs/" +
                       std::string(model::json_key(h)) + "/" + std::to_string(j) + "/" + item.field;
        }
      }
    }
  }
}

}  // namespace

Engine::Engine(EngineConfig cfg, kernel::Kernel& kernel, PackageSource& packages, StateStore& store,
               OwnershipJournal* journal)
    : cfg_(std::move(cfg)),
      kernel_(kernel),
      packages_(packages),
      planner_(cfg_.planner),
      executor_(Effects{kernel, packages, store}),
      journal_(journal) {
  publish();
}

Engine::~Engine() {
  stop();
}

void Engine::start() {
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

void Engine::release_due(bool all) {
  const auto now = std::chrono::steady_clock::now();
  while (!retiring_.empty() && (all || retiring_.front().due <= now)) {
    auto steps = std::move(retiring_.front().steps);
    retiring_.pop_front();
    // A package released here may have been fetched again by a later change: keep it.
    std::erase_if(steps, [this](const Step& st) {
      const auto* rp = std::get_if<RemovePackage>(&st.forward);
      if (rp == nullptr) return false;
      for (const auto& [iface, rec] : applied_.ifaces) {
        for (const auto& [h, progs] : rec.hooks) {
          for (const auto& r : progs) {
            if (r.spec.name == rp->ref.name && r.spec.version == rp->ref.version) return true;
          }
        }
      }
      return false;
    });
    run_release(steps, executor_);
    if (auto st = record_owned(); !st) spdlog::error("after release: {}", st.error().to_string());
  }
}

std::future<Status> Engine::submit(Command cmd, std::string request_id) {
  std::promise<Status> p;
  auto f = p.get_future();
  {
    std::lock_guard lk(q_mu_);
    if (stopping_) {
      p.set_value(fail(Errc::Unavailable, "the daemon is shutting down"));
      return f;
    }
    queue_.push_back(Queued{std::move(cmd), std::move(p), std::move(request_id)});
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

void Engine::loop() {
  for (;;) {
    Queued item;
    {
      std::unique_lock lk(q_mu_);
      auto ready = [this] { return stopping_ || !queue_.empty(); };
      // retiring_ is touched only by this thread, so reading it under q_mu_ is safe.
      while (!ready() && !retiring_.empty()) {
        const auto due = retiring_.front().due;
        if (q_cv_.wait_until(lk, due, ready)) break;
        lk.unlock();
        release_due(false);
        lk.lock();
      }
      q_cv_.wait(lk, ready);
      if (queue_.empty()) return;  // stopping and drained
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    release_due(false);
    Status st;
    {
      const log::RequestScope scope(std::move(item.request_id));
      try {
        st = execute(item.cmd);
      } catch (const std::exception& e) {
        st = fail(Errc::Internal, std::string("engine: unexpected exception: ") + e.what());
      }
    }
    item.done.set_value(std::move(st));
  }
}

void Engine::publish() {
  auto snap = std::make_shared<Snapshot>(Snapshot{applied_, pending_});
  std::lock_guard lk(snap_mu_);
  published_ = std::move(snap);
}

Status Engine::validate(const std::vector<model::L3afBpfPrograms>& entries) const {
  model::ValidationContext ctx;
  ctx.host_name = cfg_.planner.host_name;
  ctx.chaining = cfg_.chaining;
  ctx.root_names = cfg_.root_names;
  ctx.iface_state = [this](const std::string& name) {
    auto i = kernel_.interface(name);
    if (!i) return model::IfaceState::Missing;
    return i->loopback ? model::IfaceState::Loopback : model::IfaceState::Ok;
  };
  return model::validate_programs(entries, ctx);
}

Status Engine::apply(Result<Plan> plan, bool commit) {
  if (!plan) return fail(std::move(plan.error()));
  if (plan->empty()) return ok();
  if (!commit) {
    std::erase_if(plan->steps,
                  [](const Step& s) { return std::holds_alternative<CommitState>(s.forward); });
  } else {
    for (auto& s : plan->steps) {
      if (auto* c = std::get_if<CommitState>(&s.forward)) {
        c->contents.insert(c->contents.end(), pending_.begin(), pending_.end());
      }
    }
  }
  spdlog::info("applying plan: {} step(s), {} release step(s)", plan->steps.size(),
               plan->release.size());
  // Intent before effect: every instance the plan may create is recorded before the kernel is
  // touched, so a crash at any later instant leaves nothing the sweep cannot prove is ours.
  if (auto st = record_owned(owned_by(plan->next)); !st) {
    return fail(std::move(st.error()).with_context("record intent"));
  }
  auto outputs = run_plan(plan->steps, executor_);
  if (!outputs) {
    if (auto st = record_owned(); !st) spdlog::error("after rollback: {}", st.error().to_string());
    return fail(std::move(outputs.error()));
  }
  auto release = std::move(plan->release);
  const auto before = owned_by(applied_);
  applied_ = complete(std::move(*plan), *outputs);
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
  release_due(cfg_.retire_grace.count() == 0);
  return ok();
}

Status Engine::execute(const Command& cmd) {
  return std::visit(
      [this](const auto& c) -> Status {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, AddPrograms>) {
          if (auto v = validate(c.entries); !v) return v;
          auto st = apply(planner_.add(applied_, c.entries), true);
          if (!st) locate(st.error(), c.entries);
          return st;
        } else if constexpr (std::is_same_v<T, UpdatePrograms>) {
          if (auto v = validate(c.entries); !v) return v;
          auto saved = pending_;
          pending_.clear();  // update is declarative: it replaces pending entries too
          auto st = apply(planner_.update(applied_, c.entries), true);
          if (!st) {
            pending_ = std::move(saved);
            locate(st.error(), c.entries);
          }
          publish();
          return st;
        } else if constexpr (std::is_same_v<T, DeletePrograms>) {
          model::ValidationContext ctx;
          ctx.host_name = cfg_.planner.host_name;
          ctx.chaining = cfg_.chaining;
          ctx.root_names = cfg_.root_names;
          ctx.iface_state = [](const std::string&) { return model::IfaceState::Ok; };
          if (auto v = model::validate_names(c.entries, ctx); !v) return v;
          return apply(planner_.remove(applied_, c.entries), true);
        } else if constexpr (std::is_same_v<T, RestoreState> || std::is_same_v<T, RetryPending>) {
          std::vector<model::L3afBpfPrograms> entries;
          if constexpr (std::is_same_v<T, RestoreState>) {
            entries = c.entries;
          } else {
            if (pending_.empty()) return ok();
            entries = std::exchange(pending_, {});
          }
          std::vector<model::L3afBpfPrograms> now;
          for (const auto& e : entries) {
            if (auto v = validate({e}); !v) {
              if constexpr (std::is_same_v<T, RestoreState>) {
                spdlog::warn("restore: keeping interface {} pending: {}", e.iface,
                             v.error().to_string());
              } else {
                spdlog::debug("interface {} still pending: {}", e.iface, v.error().to_string());
              }
              pending_.push_back(e);
            } else {
              now.push_back(e);
            }
          }
          // One plan per interface: an entry that cannot be applied stays pending (kept in the
          // store, its pins left alone) without holding back the others.
          const PinnedLinks* adopt = nullptr;
          if constexpr (std::is_same_v<T, RestoreState>) adopt = &c.pinned_links;
          Status result = ok();
          for (const auto& e : now) {
            if constexpr (std::is_same_v<T, RestoreState>) {
              if (cfg_.planner.chaining) adopt_live_chains(e, c.pinned_links);
            }
            auto st = apply(planner_.add(applied_, {e}, adopt), true);
            if (!st) {
              spdlog::error("restore of interface {} failed, kept pending: {}", e.iface,
                            st.error().to_string());
              pending_.push_back(e);
              if (result) result = std::move(st);
            }
          }
          publish();
          return result;
        } else if constexpr (std::is_same_v<T, StopAll>) {
          auto st = apply(planner_.update(applied_, {}), false);
          release_due(true);  // shutting down: nothing runs after this
          return st;
        } else {
          static_assert(std::is_same_v<T, T>, "every command is handled");
          return ok();
        }
      },
      cmd);
}

}  // namespace l3afd::engine
